/**
 * The review workflow through the transport-free handlers, on an in-memory scan with imported ground truth
 * and a real workspace on disk: model runs are layers that never silently replace human contours, a
 * replacement can be undone, edits undone back to their layer are no edits, approval covers the slices a
 * person was shown (or says how many were not), and the audit trail records who, when, from which model
 * and what changed. Expected values are hand-counted from the few pixels each test sets.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Dataset, Scan, SliceMasks } from '../../main/core/types';
import type { Engine } from '../../main/ipc/engine';
import { createHandlers, type Handlers } from '../../main/ipc/handlers';
import { SettingsStore } from '../../main/ipc/settings';
import { fineTuneTitle } from '../../main/model/registry';
import { recommendCandidate, scoreSlices } from '../../main/services/compare-models';
import { MAX_RUNS } from '../../main/workspace/layers';
import type { JobSummary } from '../../preload/api';
import { decodeMask, encodeMask, sameSliceMasks } from '../../preload/wire';

const W = 4;
const H = 3;
const SCAN = 'case5_day1';
const sliceId = (n: number) => `${SCAN}_slice_${String(n).padStart(4, '0')}`;

function mask(...pixels: number[]) {
  const data = new Uint8Array(W * H);
  for (const p of pixels) data[p] = 1;
  return { width: W, height: H, data };
}

function pixelsOf(wire: { width: number; height: number; runs: number[] } | undefined): number[] {
  if (!wire) return [];
  const d = decodeMask(wire).data;
  return [...d.keys()].filter((k) => d[k]);
}

/** One scan of 4 slices; ground truth (stomach) on slices 1 and 2; the model paints pixel 0 of slice 1…4. */
function engineWithTruth(): Engine & { models: string } {
  const scan: Scan = {
    id: SCAN,
    patientId: 'case5',
    studyId: SCAN,
    day: 'day1',
    width: W,
    height: H,
    pixelSpacing: [1, 1],
    sliceThickness: 1,
    intensity: 'uint16',
    source: 'png',
    slices: [1, 2, 3, 4].map((n) => ({ id: sliceId(n), number: n, width: W, height: H })),
    async readSlice() {
      return { width: W, height: H, data: new Uint16Array(W * H) };
    },
  };
  const dataset: Dataset = {
    root: '/data/review',
    patients: [{ id: 'case5', studies: [{ id: SCAN, patientId: 'case5', day: 'day1', scans: [scan] }] }],
    masks: new Map<string, SliceMasks>([
      [sliceId(1), { stomach: mask(5, 6) }],
      [sliceId(2), { stomach: mask(6) }],
    ]),
  };
  return {
    models: 'default',
    openDataset: async () => dataset,
    backend: async () => ({ name: 'fake' }),
    async segmentScan(s) {
      return {
        masks: new Map(s.slices.map((x) => [x.id, { large_bowel: mask(0) }])),
        uncertainty: Object.fromEntries(s.slices.map((x) => [x.id, 0.1])),
      };
    },
    train: async () => {
      throw new Error('not used');
    },
    listModels: async () => [{ id: '20261130-090000-tuned', createdAt: '', active: true }],
    activateModel: async () => [],
    rollbackModel: async () => [],
    writeCoco: async () => {},
    writeKaggleCsv: async () => {},
    writePngMasks: async () => [],
  };
}

let tmp: string;
let h: Handlers;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-review-'));
  h = createHandlers({
    engine: engineWithTruth(),
    settings: new SettingsStore(path.join(tmp, 'settings.json')),
    emit: () => {},
    transport: 'http',
    version: 'test',
    demoDir: '/data/demo',
    workspaceBase: tmp,
    user: 'dr-test',
  });
  await h['dataset:open']({ path: '/data/review' });
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function segment(replace?: boolean): Promise<JobSummary> {
  const { jobId } = await h['segment:start']({ scope: 'scan', id: SCAN, ...(replace ? { replace } : {}) });
  for (;;) {
    const job = await h['job:get']({ jobId });
    if (job.status !== 'running' && job.status !== 'queued') return job;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function scanFile(): Promise<{ tractus: { audit: Array<Record<string, unknown>> } }> {
  const summary = await h['dataset:current']({});
  return JSON.parse(await readFile(path.join(summary!.workspace, 'scans', `${SCAN}.coco.json`), 'utf8'));
}

describe('layers: model output never silently replaces human contours', () => {
  it('segment:check names the human contours a run would replace', async () => {
    await h['masks:save']({ scanId: SCAN, sliceId: sliceId(3), masks: { stomach: encodeMask(mask(1)) } });
    // Truth on slices 1 and 2, an edit on 3.
    expect(await h['segment:check']({ scope: 'scan', id: SCAN })).toEqual([
      { scanId: SCAN, truth: 2, edited: 1, approved: 0 },
    ]);
  });

  it('without `replace` the run is only a layer; the working contour stays the ground truth', async () => {
    expect((await segment()).status).toBe('done');
    const m = await h['masks:get']({ scanId: SCAN });
    expect(m.base).toBe('truth');
    expect(m.sources[sliceId(1)]).toBe('ground-truth');
    expect(pixelsOf(m.masks[sliceId(1)]!.stomach)).toEqual([5, 6]);
    expect(m.layers.map((l) => [l.id, l.model ?? null, l.slices])).toEqual([
      ['truth', null, 2],
      ['run:1', '20261130-090000-tuned', 4],
    ]);
    const run = await h['layers:masks']({ scanId: SCAN, layer: 'run:1' });
    expect(pixelsOf(run[sliceId(3)]!.large_bowel)).toEqual([0]);
    const truth = await h['layers:masks']({ scanId: SCAN, layer: 'truth' });
    expect(Object.keys(truth)).toEqual([sliceId(1), sliceId(2)]);
  });

  it('with `replace` edits are shelved, and choosing the old layer again restores them', async () => {
    await h['masks:save']({ scanId: SCAN, sliceId: sliceId(1), masks: { stomach: encodeMask(mask(4)) } });
    await segment(true);
    let m = await h['masks:get']({ scanId: SCAN });
    expect(m.base).toBe('run:1');
    expect(m.sources[sliceId(1)]).toBe('prediction');
    expect(m.states[sliceId(1)]).toBe('auto');
    expect(m.shelved).toEqual([expect.objectContaining({ base: 'truth', replacedBy: 'run:1', slices: 1 })]);
    // Undo the replacement: the ground truth and the clinician's edit are back.
    m = await h['layers:use']({ scanId: SCAN, layer: 'truth' });
    expect(m.base).toBe('truth');
    expect(m.states[sliceId(1)]).toBe('edited');
    expect(pixelsOf(m.masks[sliceId(1)]!.stomach)).toEqual([4]);
    expect(m.baseMasks[sliceId(1)]).toEqual({ stomach: encodeMask(mask(5, 6)) });
    expect(m.shelved).toEqual([]);
    const audit = (await scanFile()).tractus.audit;
    expect(audit.map((a) => [a.action, a.user])).toEqual([
      ['segment', 'dr-test'],
      ['use-layer', 'dr-test'],
    ]);
    await expect(h['layers:use']({ scanId: SCAN, layer: 'run:9' })).rejects.toThrow(/no such layer/);
    await expect(h['layers:use']({ scanId: SCAN, layer: 'run:x' as 'truth' })).rejects.toThrow(
      /invalid arguments/,
    );
  });

  it(`keeps at most ${MAX_RUNS} runs, never dropping the base`, async () => {
    await segment(true); // run:1 is the base, and a clinician's edit keeps it so
    await h['masks:save']({ scanId: SCAN, sliceId: sliceId(3), masks: { stomach: encodeMask(mask(1)) } });
    for (let i = 0; i < MAX_RUNS + 1; i++) await segment(false);
    const m = await h['masks:get']({ scanId: SCAN });
    const runs = m.layers.filter((l) => l.id !== 'truth').map((l) => l.id);
    expect(runs).toHaveLength(MAX_RUNS);
    expect(runs[0]).toBe('run:1');
    expect(runs.at(-1)).toBe(`run:${MAX_RUNS + 2}`);
  });
});

describe('an edit undone back to its layer is no edit', () => {
  it('saving masks equal to the layer drops the edit and the slice is not "edited"', async () => {
    const edited = await h['masks:save']({
      scanId: SCAN,
      sliceId: sliceId(1),
      masks: { stomach: encodeMask(mask(5, 6, 7)) },
    });
    expect(edited.state).toBe('edited');
    // Runs written differently (a zero-length run) still mean the same pixels.
    const back = await h['masks:save']({
      scanId: SCAN,
      sliceId: sliceId(1),
      masks: { stomach: { width: W, height: H, runs: [5, 2, 0, 0, 5] } },
    });
    expect(back.state).toBe('auto');
    const m = await h['masks:get']({ scanId: SCAN });
    expect(m.sources[sliceId(1)]).toBe('ground-truth');
    expect(m.states[sliceId(1)]).toBe('auto');
  });

  it('sameSliceMasks treats absent and empty masks alike', () => {
    const empty = encodeMask(mask());
    expect(sameSliceMasks({ stomach: empty }, {})).toBe(true);
    expect(sameSliceMasks({ stomach: encodeMask(mask(1)) }, {})).toBe(false);
    expect(sameSliceMasks({ stomach: encodeMask(mask(1)) }, { stomach: encodeMask(mask(2)) })).toBe(false);
  });
});

describe('approval covers the slices a person was shown, with an audit trail', () => {
  it('approves only viewed slices and says how many were never shown', async () => {
    // Slice 2 corrected: pixel 6 removed, pixels 7 and 8 added (2 added, 1 removed).
    await h['masks:save']({
      scanId: SCAN,
      sliceId: sliceId(2),
      masks: { stomach: encodeMask(mask(7, 8)) },
    });
    const r = await h['scan:approve']({
      scanId: SCAN,
      approved: true,
      viewed: [sliceId(1), sliceId(2), 'not-a-slice'],
    });
    expect(r).toEqual({ approved: false, approvedSlices: 2, unviewed: 2 });
    let m = await h['masks:get']({ scanId: SCAN });
    expect([1, 2, 3, 4].map((n) => m.states[sliceId(n)])).toEqual(['approved', 'approved', 'auto', 'auto']);
    expect(m.viewed).toEqual([sliceId(1), sliceId(2)]);

    const all = await h['scan:approve']({ scanId: SCAN, approved: true, includeUnviewed: true });
    expect(all).toEqual({ approved: true, approvedSlices: 4, unviewed: 0 });
    m = await h['masks:get']({ scanId: SCAN });
    expect(m.approved).toBe(true);

    const audit = (await scanFile()).tractus.audit;
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({
      user: 'dr-test',
      action: 'approve',
      slices: [sliceId(1), sliceId(2)],
      layers: { truth: 1, 'truth+edits': 1 },
      models: [],
      changed: [
        { sliceId: sliceId(2), layer: 'truth', organs: [{ organ: 'stomach', added: 2, removed: 1 }] },
      ],
    });
    expect(Date.parse(audit[0]!.at as string)).not.toBeNaN();
    expect(audit[1]).toMatchObject({ action: 'approve', unviewed: [sliceId(3), sliceId(4)] });
  });

  it('records the model under an approved model contour, and a single-slice approval', async () => {
    await segment(true);
    await h['slice:setState']({ scanId: SCAN, sliceId: sliceId(3), state: 'approved' });
    const audit = (await scanFile()).tractus.audit;
    expect(audit.at(-1)).toMatchObject({
      action: 'approve-slice',
      slices: [sliceId(3)],
      layers: { 'run:1': 1 },
      models: ['20261130-090000-tuned'],
    });
    expect((await h['masks:get']({ scanId: SCAN })).viewed).toEqual([sliceId(3)]);
  });

  it('withdrawing approval keeps edits as edits', async () => {
    await h['masks:save']({ scanId: SCAN, sliceId: sliceId(4), masks: { stomach: encodeMask(mask(3)) } });
    await h['scan:approve']({ scanId: SCAN, approved: true, includeUnviewed: true });
    await h['scan:approve']({ scanId: SCAN, approved: false });
    const m = await h['masks:get']({ scanId: SCAN });
    expect([1, 2, 3, 4].map((n) => m.states[sliceId(n)])).toEqual(['auto', 'auto', 'auto', 'edited']);
  });
});

describe('fine-tune comparison and names', () => {
  it('scores per-slice Dice per organ and recommends only a better candidate', () => {
    const ref = { stomach: mask(0, 1, 2, 3) };
    // Dice 2·2/(4+2) = 2/3 on slice 1; 1 on slice 2 → mean 5/6.
    const current = scoreSlices('a', [
      { predicted: { stomach: mask(0, 1) }, reference: ref },
      { predicted: { stomach: mask(0, 1, 2, 3) }, reference: ref },
    ]);
    expect(current.dice.stomach).toBeCloseTo(5 / 6, 12);
    expect(current.dice.large_bowel).toBeNull();
    expect(current.mean).toBeCloseTo(5 / 6, 12);
    const worse = scoreSlices('b', [{ predicted: {}, reference: ref }]);
    expect(worse.dice.stomach).toBe(0);
    expect(recommendCandidate(current, worse)).toBe(false);
    expect(recommendCandidate(worse, current)).toBe(true);
    expect(recommendCandidate(current, current)).toBe(false);
  });

  it('names a fine-tune by its date and data', () => {
    const date = new Date('2026-11-30T10:00:00Z');
    expect(fineTuneTitle(date, new Map([['case11_day20', 16]]))).toBe(
      'fine-tune 2026-11-30, 16 slices of case11_day20',
    );
    expect(
      fineTuneTitle(
        date,
        new Map([
          ['c4', 1],
          ['c1', 1],
          ['c2', 1],
          ['c3', 1],
        ]),
      ),
    ).toBe('fine-tune 2026-11-30, 4 slices of c1, c2, c3 and 1 more');
  });
});
