/**
 * The workspace on disk: each scan's corrections are a COCO dataset (compressed RLE) with the review state
 * and edit history beside it, written atomically with versions kept; version-1 files are read and
 * migrated; a damaged file never stops the workspace from opening (the newest good version is restored
 * and the problem reported). Expected values are hand-computed from the few pixels each test sets.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cocoToSliceMasks, parseCocoDataset } from '../../main/masks/coco';
import type { DescribeSlice } from '../../main/workspace/coco-document';
import { MAX_VERSIONS, WorkspaceStore } from '../../main/workspace/store';
import { decodeMask, encodeMask } from '../../preload/wire';

const W = 8;
const H = 6;
const SCAN = 'case3_day2';
const slice = (n: number) => `${SCAN}_slice_${String(n).padStart(4, '0')}`;
const describeSlice: DescribeSlice = (id) => {
  const n = /slice_(\d+)$/.exec(id)?.[1];
  return n
    ? { fileName: `train/case3/${SCAN}/scans/slice_${n}_8_6_1.50_1.50.png`, width: W, height: H }
    : undefined;
};

/** A stomach mask with the given row-major pixel indices set. */
function stomach(...pixels: number[]) {
  const data = new Uint8Array(W * H);
  for (const p of pixels) data[p] = 1;
  return { stomach: encodeMask({ width: W, height: H, data }) };
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-ws-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const open = () => WorkspaceStore.open(tmp, '/data/x', describeSlice);
const scanFile = () => path.join(tmp, 'scans', `${SCAN}.coco.json`);

describe('workspace store (COCO + edit history)', () => {
  it('writes corrections as a COCO dataset with compressed RLE, UW file names and the history', async () => {
    const store = await open();
    // Pixels (x, y): (1, 0), (2, 0), (1, 1) → row-major 1, 2, 9.
    await store.saveEdit(SCAN, slice(5), stomach(1, 2, 9));
    await store.saveEdit(SCAN, slice(2), {}); // everything erased: a correction too ("no organ here")
    await store.setState(SCAN, slice(5), 'approved');

    const json = JSON.parse(await readFile(scanFile(), 'utf8'));
    const coco = parseCocoDataset(json, scanFile());
    expect(coco.images.map((i) => i.file_name)).toEqual([
      `train/case3/${SCAN}/scans/slice_0002_8_6_1.50_1.50.png`,
      `train/case3/${SCAN}/scans/slice_0005_8_6_1.50_1.50.png`,
    ]);
    expect(coco.images.every((i) => i.width === W && i.height === H)).toBe(true);
    expect(coco.annotations).toHaveLength(1);
    const ann = coco.annotations[0]!;
    expect(ann.category_id).toBe(3); // stomach
    expect(ann.area).toBe(3);
    expect(ann.bbox).toEqual([1, 0, 2, 2]);
    // Compressed RLE: `counts` is a string (pycocotools' compressed form), `size` is [height, width].
    expect(typeof (ann.segmentation as { counts: unknown }).counts).toBe('string');
    expect((ann.segmentation as { size: number[] }).size).toEqual([H, W]);
    const decoded = cocoToSliceMasks(coco, scanFile()).get(ann.image_id)!.stomach!;
    expect([...decoded.data.keys()].filter((k) => decoded.data[k])).toEqual([1, 2, 9]);

    expect(json.tractus.formatVersion).toBe(3);
    expect(json.tractus.version).toBe(3);
    expect(json.tractus.sliceIds).toEqual([slice(2), slice(5)]);
    expect(json.tractus.states).toEqual({ [slice(5)]: 'approved', [slice(2)]: 'edited' });
    expect(json.tractus.history.map((h: { action: string }) => h.action)).toEqual(['edit', 'edit', 'state']);

    // A new store (a restart) reads the same document back.
    const again = await (await open()).load(SCAN);
    expect(again.version).toBe(3);
    expect(again.edits[slice(2)]).toEqual({});
    const back = decodeMask(again.edits[slice(5)]!.stomach!).data;
    expect([...back.keys()].filter((k) => back[k])).toEqual([1, 2, 9]);
  });

  it(`keeps earlier versions as COCO files, the newest ${MAX_VERSIONS}`, async () => {
    const store = await open();
    for (let i = 0; i < MAX_VERSIONS + 3; i++) await store.saveEdit(SCAN, slice(1), stomach(i % (W * H)));
    const versions = await store.listVersions(SCAN);
    expect(versions).toHaveLength(MAX_VERSIONS);
    expect(versions.at(-1)).toBe(MAX_VERSIONS + 2);
    expect(versions[0]).toBe(3);
    const v10 = await store.readVersion(SCAN, 10);
    const px = decodeMask(v10.edits[slice(1)]!.stomach!).data;
    expect([...px.keys()].filter((k) => px[k])).toEqual([9]); // the 10th save set pixel 9
  });

  it('reads a version-1 workspace file and migrates it on the next save, keeping the old file', async () => {
    const legacy = path.join(tmp, 'scans', `${SCAN}.json`);
    await mkdir(path.dirname(legacy), { recursive: true });
    await writeFile(
      path.join(tmp, 'workspace.json'),
      JSON.stringify({
        format: 'tractus-workspace',
        formatVersion: 1,
        datasetRoot: '/data/x',
        createdAt: 'x',
      }),
    );
    await writeFile(
      legacy,
      JSON.stringify({
        format: 'tractus-scan',
        formatVersion: 1,
        scanId: SCAN,
        version: 4,
        approved: false,
        states: { [slice(3)]: 'edited' },
        edits: { [slice(3)]: { stomach: { width: W, height: H, runs: [4, 2, 42] } } },
        predictions: {},
        history: [{ at: '2024-01-01T00:00:00Z', action: 'edit', sliceId: slice(3), organs: ['stomach'] }],
      }),
    );
    const store = await open();
    const doc = await store.load(SCAN);
    expect(doc.version).toBe(4);
    expect(doc.edits[slice(3)]!.stomach!.runs).toEqual([4, 2, 42]);

    await store.setState(SCAN, slice(3), 'approved');
    expect(existsSync(legacy)).toBe(false);
    expect(existsSync(path.join(tmp, 'versions', SCAN, 'legacy-v1.json'))).toBe(true);
    const json = JSON.parse(await readFile(scanFile(), 'utf8'));
    expect(json.tractus.version).toBe(5);
    expect(json.tractus.history).toHaveLength(2);
    expect(json.annotations[0].area).toBe(2); // pixels 4 and 5
  });

  it('a damaged file does not stop opening: the newest good version is restored and reported', async () => {
    const store = await open();
    await store.saveEdit(SCAN, slice(1), stomach(7));
    await store.saveEdit(SCAN, slice(1), stomach(7, 8));
    await writeFile(scanFile(), '{"images": [');

    const restarted = await open();
    const doc = await restarted.load(SCAN);
    expect(doc.version).toBe(1);
    const px = decodeMask(doc.edits[slice(1)]!.stomach!).data;
    expect([...px.keys()].filter((k) => px[k])).toEqual([7]);
    const problems = restarted.problems();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.where).toBe(scanFile());
    expect(problems[0]!.problem).toMatch(/not valid JSON.*restored version 1/);
    // The damaged file is kept aside; saving again works and writes a good file.
    expect(await readdir(path.join(tmp, 'damaged'))).toHaveLength(1);
    const next = await restarted.saveEdit(SCAN, slice(1), stomach(7, 8, 9));
    expect(next.version).toBe(2);
    expect((await open().then((s) => s.load(SCAN))).version).toBe(2);
  });

  it('a damaged file without versions starts the scan afresh and says so', async () => {
    await mkdir(path.dirname(scanFile()), { recursive: true });
    await writeFile(
      scanFile(),
      JSON.stringify({ images: [], annotations: [], tractus: { format: 'other' } }),
    );
    const store = await open();
    const doc = await store.load(SCAN);
    expect(doc.version).toBe(0);
    expect(store.problems()[0]!.problem).toMatch(/not a Tractus scan document.*starting this scan afresh/);
  });

  it('any corruption of a scan file is reported, never a crash (fuzz)', async () => {
    const store = await open();
    await store.saveEdit(SCAN, slice(2), stomach(3, 4, 11));
    const good = await readFile(scanFile(), 'utf8');
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: good.length - 1 }),
        fc.nat({ max: 40 }),
        fc.string({ maxLength: 6 }),
        async (at, cut, insert) => {
          const bad = good.slice(0, at) + insert + good.slice(at + cut);
          await writeFile(scanFile(), bad);
          const s = await open();
          const doc = await s.load(SCAN);
          // Either the change was harmless (still a valid document) or it was reported and set aside.
          if (s.problems().length === 0) expect(doc.scanId).toBe(SCAN);
          else expect(s.problems()[0]!.where).toBe(scanFile());
          await rm(path.join(tmp, 'damaged'), { recursive: true, force: true });
        },
      ),
      { numRuns: 60 },
    );
  });
});
