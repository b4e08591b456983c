import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORGANS } from '../../main/core/organs';
import { allScans } from '../../main/core/types';
import { openUwmgi, writeUwmgiSlice } from '../../main/imaging/uwmgi';
import { LazyMaskMap } from '../../main/imaging/lazy-masks';
import { describeWithSharedData, sharedPath } from '../helpers/shared-data';

const root = mkdtempSync(path.join(tmpdir(), 'tractus-uw-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** 4 wide × 3 high; value = 100·slice + pixel index, so every slice and pixel is recognisable. */
function image(slice: number) {
  return { width: 4, height: 3, data: Uint16Array.from({ length: 12 }, (_, i) => 100 * slice + i) };
}

// Kaggle RLE, 1-based starts along rows: "2 3" = pixels 1,2,3 (row 0, columns 1-3);
// "5 2" = pixels 4,5 (row 1, columns 0-1).
const TRAIN_CSV = [
  'id,class,segmentation',
  'case7_day3_slice_0001,large_bowel,',
  'case7_day3_slice_0001,small_bowel,',
  'case7_day3_slice_0001,stomach,2 3',
  'case7_day3_slice_0010,large_bowel,5 2',
  'case7_day3_slice_0010,small_bowel,',
  'case7_day3_slice_0010,stomach,',
  'case7_day3_slice_0099,stomach,1 1',
  'case8_day1_slice_0001,stomach,1 1',
].join('\n');

beforeAll(async () => {
  for (const n of [10, 1, 2]) await writeUwmgiSlice(root, 'case7_day3', n, image(n), [1.5, 1.6]);
  writeFileSync(path.join(root, 'train.csv'), TRAIN_CSV + '\n');
});

describe('UW-Madison layout', () => {
  it('writes the exact Kaggle path', () => {
    expect(existsSync(path.join(root, 'train/case7/case7_day3/scans/slice_0002_4_3_1.50_1.60.png'))).toBe(
      true,
    );
  });

  it('opens the root: ids, order by number, spacing from the name, 3 mm, pixels', async () => {
    const dataset = await openUwmgi(root);
    const [scan] = allScans(dataset);
    expect(scan).toMatchObject({
      id: 'case7_day3',
      patientId: 'case7',
      day: 'day3',
      width: 4,
      height: 3,
      pixelSpacing: [1.6, 1.5], // [row (ph), column (pw)]
      sliceThickness: 3,
      intensity: 'uint16',
      source: 'uwmgi',
    });
    expect(scan!.slices.map((s) => s.id)).toEqual([
      'case7_day3_slice_0001',
      'case7_day3_slice_0002',
      'case7_day3_slice_0010',
    ]);
    expect(await scan!.readSlice(2)).toEqual(image(10));
  });

  it('decodes train.csv masks at the slice size and lists rows without images', async () => {
    const dataset = await openUwmgi(root);
    expect(dataset.masks).toBeInstanceOf(LazyMaskMap);
    expect(Array.from(dataset.masks.get('case7_day3_slice_0001')!.stomach!.data)).toEqual([
      0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(Array.from(dataset.masks.get('case7_day3_slice_0010')!.large_bowel!.data)).toEqual([
      0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0,
    ]);
    expect(dataset.masks.get('case7_day3_slice_0010')!.stomach).toBeUndefined();
    expect(dataset.masks.has('case7_day3_slice_0002')).toBe(false); // not in the CSV: not annotated
    expect([...dataset.masks.keys()]).toEqual(['case7_day3_slice_0001', 'case7_day3_slice_0010']);
    const problems = (dataset.warnings ?? []).map((w) => w.problem);
    expect(problems).toEqual([
      'masks for 1 case7_day3 slices with no image: case7_day3_slice_0099',
      'masks for 1 case8_day1 slices, but there is no case8_day1 folder: case8_day1_slice_0001',
    ]);
  });

  it('opens train/, a case folder and a case-day folder alike; other cases of the CSV are not warned about', async () => {
    for (const sub of ['train', 'train/case7', 'train/case7/case7_day3']) {
      const dataset = await openUwmgi(path.join(root, sub));
      expect(allScans(dataset).map((s) => s.slices.length)).toEqual([3]);
      expect(dataset.masks.size).toBe(2);
      const problems = (dataset.warnings ?? []).map((w) => w.problem).join('\n');
      expect(problems).toContain('case7_day3_slice_0099');
      expect(problems.includes('case8_day1') === (sub === 'train')).toBe(true);
    }
  });

  it('a bad RLE is an InputError naming the CSV, slice and organ', async () => {
    const csv = path.join(root, 'bad.csv');
    writeFileSync(csv, 'id,class,segmentation\ncase7_day3_slice_0001,stomach,12 5\n');
    await expect(openUwmgi(root, { csv })).rejects.toThrow(
      /bad\.csv \(case7_day3_slice_0001 stomach\): .*past the image end/,
    );
  });

  it('masks: false opens the images without reading the CSV (segmenting needs no ground truth)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tractus-uw-nocsv-'));
    try {
      await writeUwmgiSlice(dir, 'case7_day3', 1, image(1), [1.5, 1.6]);
      writeFileSync(
        path.join(dir, 'train.csv'),
        'id,class,segmentation\ncase7_day3_slice_0001,stomach,12 5\n',
      );
      await expect(openUwmgi(dir)).rejects.toThrow(/past the image end/);
      const dataset = await openUwmgi(dir, { masks: false });
      expect(allScans(dataset).map((s) => s.slices.length)).toEqual([1]);
      expect(dataset.masks.size).toBe(0);
      expect(dataset.warnings).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the wide eval-subset format when given explicitly', async () => {
    const csv = path.join(root, 'wide.csv');
    writeFileSync(
      csv,
      'id,large_bowel,small_bowel,stomach,path,case,day,slice,width,height,counts\n' +
        'case7_day3_slice_0002,,1 2,,x.png,7,3,2,4,3,1\n',
    );
    const dataset = await openUwmgi(root, { csv });
    expect(Array.from(dataset.masks.get('case7_day3_slice_0002')!.small_bowel!.data.subarray(0, 3))).toEqual([
      1, 1, 0,
    ]);
  });

  it('a folder without the layout is a clear InputError', async () => {
    const empty = mkdtempSync(path.join(root, 'empty-'));
    await expect(openUwmgi(empty)).rejects.toThrow(/no UW-Madison case-day folders/);
  });
});

describe('LazyMaskMap', () => {
  it('behaves as a Map: lazily decoded and plain entries, iteration, delete', () => {
    let decodes = 0;
    const map = new LazyMaskMap();
    map.setLazy('a', () => {
      decodes++;
      return {};
    });
    map.set('b', { stomach: { width: 1, height: 1, data: new Uint8Array([1]) } });
    expect(decodes).toBe(0);
    expect(map.size).toBe(2);
    expect(map.get('a')).toEqual({});
    expect([...map].map(([k]) => k)).toEqual(['a', 'b']);
    expect(decodes).toBe(2);
    map.set('a', { large_bowel: { width: 1, height: 1, data: new Uint8Array([1]) } });
    expect(map.get('a')!.large_bowel).toBeDefined();
    map.delete('b');
    expect([...map.keys()]).toEqual(['a']);
  });
});

describeWithSharedData('UW-Madison: real eval_subset.csv masks on a rebuilt layout', () => {
  it('names files as the dataset does and decodes every real row at its slice size', async () => {
    const csv = sharedPath('uwmgi-masks/eval_subset.csv');
    const lines = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
    const wanted = new Set(['case122_day0', 'case84_day0']);
    const dir = mkdtempSync(path.join(root, 'eval-'));
    const expectedAreas = new Map<string, number[]>();
    for (const line of lines) {
      const cells = line.split(',');
      const [id, lb, sb, st, original] = cells as [string, string, string, string, string];
      const scanId = id.replace(/_slice_\d+$/, '');
      if (!wanted.has(scanId)) continue;
      const [width, height] = [Number(cells[8]), Number(cells[9])];
      const written = await writeUwmgiSlice(
        dir,
        scanId,
        Number(cells[7]),
        { width, height, data: new Uint16Array(width * height) },
        [1.5, 1.5],
      );
      expect(path.basename(written)).toBe(original.split('\\').pop());
      // area of a Kaggle RLE = the sum of its run lengths
      const runLengths = (rle: string) =>
        rle
          .trim()
          .split(/\s+/)
          .filter((_, i) => i % 2 === 1)
          .reduce((a, v) => a + Number(v), 0);
      expectedAreas.set(
        id,
        [lb, sb, st].map((rle) => (rle ? runLengths(rle) : 0)),
      );
    }
    const dataset = await openUwmgi(dir, { csv });
    expect(dataset.masks.size).toBe(69 + 50);
    for (const [id, areas] of expectedAreas) {
      const masks = dataset.masks.get(id)!;
      const got = ORGANS.map((organ) => masks[organ]?.data.reduce((a, v) => a + v, 0) ?? 0);
      expect(got).toEqual(areas);
    }
    // the 20 other case-days of the CSV have no folder here: one warning each
    expect(dataset.warnings?.length).toBe(20);
  });
});
