import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import type { Dataset, Scan, SliceMasks } from '../../main/core/types';
import { crossValidate } from '../../main/services/crossval';

const SIDE = 16;

/** Patient `id` with one scan of two slices; a 4×4 "stomach" square on the first slice only. */
function patient(id: string, masks: Map<string, SliceMasks>) {
  const scanId = `${id}_day1`;
  const scan: Scan = {
    id: scanId,
    patientId: id,
    studyId: scanId,
    day: 'day1',
    width: SIDE,
    height: SIDE,
    pixelSpacing: null,
    sliceThickness: null,
    intensity: 'uint8',
    source: 'coco',
    slices: [1, 5].map((n) => ({ id: `${scanId}_slice_000${n}`, number: n, width: SIDE, height: SIDE })),
    readSlice: async (i) => ({
      width: SIDE,
      height: SIDE,
      data: Uint8Array.from({ length: SIDE * SIDE }, (_, p) => (p * (i + 3)) % 251),
    }),
  };
  const square = new Uint8Array(SIDE * SIDE);
  for (let y = 4; y < 8; y++) for (let x = 4; x < 8; x++) square[y * SIDE + x] = 1;
  masks.set(scan.slices[0]!.id, { stomach: { width: SIDE, height: SIDE, data: square } });
  masks.set(scan.slices[1]!.id, {});
  return { id, studies: [{ id: scanId, patientId: id, day: 'day1', scans: [scan] }] };
}

function dataset(ids: string[]): Dataset {
  const masks = new Map<string, SliceMasks>();
  return { root: 'test-set', patients: ids.map((id) => patient(id, masks)), masks };
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** One optimiser step of the small U-Net on the cpu backend. */
const TINY = {
  arch: 'unet-small',
  inputSize: SIDE,
  epochs: 1,
  stepsPerEpoch: 1,
  batchSize: 2,
  learningRate: 1e-3,
  seed: 1,
  backend: 'cpu' as const,
};

describe('crossValidate', () => {
  it('scores every patient once on its own slices and reads finished folds back', async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'crossval-'));
    dirs.push(workDir);
    const job = { ...TINY, dataset: dataset(['case1', 'case2', 'case3']), workDir };
    const report = await crossValidate(job);
    expect(report.folds.map((f) => f.patient)).toEqual(['case1', 'case2', 'case3']);
    for (const f of report.folds) {
      expect(f.testSlices).toBe(2);
      // Trained on the other two patients' slices only.
      expect(f.trainSlices).toBe(4);
    }
    // Every held-out slice counted once: 3 patients × 1 stomach-free slice.
    expect(report.untuned.organs.stomach.emptySlices).toBe(3);
    expect(report.untuned.organs.large_bowel.slices).toBe(6);

    // A second run with the same folder trains nothing and reproduces the numbers exactly.
    const again = await crossValidate({ ...job, epochs: 50, stepsPerEpoch: 1000 });
    expect(again.untuned).toEqual(report.untuned);
    expect(again.tuned).toEqual(report.tuned);

    // A damaged saved fold is reported with its file, not read as wrong numbers.
    const bin = path.join(workDir, 'fold-case2', 'heldout.bin');
    truncateSync(bin, 100);
    await expect(crossValidate(job)).rejects.toThrow(InputError);
    await expect(crossValidate(job)).rejects.toThrow(/heldout\.bin/);
  }, 60_000);

  it("trains a fold's batches in worker threads when asked (--workers)", async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'crossval-workers-'));
    dirs.push(workDir);
    const lines: string[] = [];
    const report = await crossValidate({
      dataset: dataset(['case1', 'case2']),
      arch: 'unet-small',
      inputSize: SIDE,
      epochs: 1,
      stepsPerEpoch: 2,
      batchSize: 2,
      learningRate: 1e-3,
      seed: 1,
      workDir,
      backend: 'cpu',
      folds: ['case1'],
      workers: 2,
      log: (line) => lines.push(line),
    });
    expect(report.folds.map((f) => f.patient)).toEqual(['case1']);
    expect(
      readFileSync(path.join(workDir, 'fold-case1', 'history.jsonl'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1);
    expect(lines).toContain('fold case1: trained on 2 slices (2 worker threads)');
  });

  it("leaves out of each fold the extra scans made from that fold's patient", async () => {
    const workDir = mkdtempSync(path.join(tmpdir(), 'crossval-extra-'));
    dirs.push(workDir);
    const lines: string[] = [];
    await crossValidate({
      dataset: dataset(['case1', 'case2', 'case3']),
      // transplants: case7001 from case1's images, case7002 from case2's label maps, case7003 from neither
      extra: dataset(['case7001', 'case7002', 'case7003']),
      extraDerivedFrom: new Map([
        ['case7001_day1', ['case1', 'case40']],
        ['case7002_day1', ['case50', 'case2']],
        ['case7003_day1', ['case50', 'case40']],
      ]),
      ...TINY,
      workDir,
      folds: ['case1', 'case2', 'case3'],
      log: (line) => lines.push(line),
    });
    const leftOut = lines.filter((l) => l.includes('left out'));
    expect(leftOut).toEqual([
      "fold case1: 2 extra slices made from case1's data left out",
      "fold case2: 2 extra slices made from case2's data left out",
    ]);
  });

  it('explains what is wrong with data it cannot cross-validate', async () => {
    const base = {
      epochs: 0,
      stepsPerEpoch: 1,
      batchSize: 1,
      learningRate: 1e-3,
      seed: 1,
      workDir: 'unused',
      backend: 'cpu' as const,
    };
    await expect(crossValidate({ ...base, dataset: dataset(['case1']) })).rejects.toThrow(InputError);
    await expect(
      crossValidate({ ...base, dataset: dataset(['case1', 'case2']), folds: ['case9'] }),
    ).rejects.toThrow(/case9/);
  });

  it('starts each fold from an earlier run’s model of the same fold (--init-folds)', async () => {
    const first = mkdtempSync(path.join(tmpdir(), 'crossval-'));
    const second = mkdtempSync(path.join(tmpdir(), 'crossval-'));
    dirs.push(first, second);
    const job = {
      dataset: dataset(['case1', 'case2']),
      arch: 'unet-small',
      inputSize: SIDE,
      epochs: 2,
      stepsPerEpoch: 1,
      batchSize: 2,
      learningRate: 1e-2,
      seed: 1,
      workDir: first,
      backend: 'cpu' as const,
    };
    const trained = await crossValidate(job);
    // Nothing more trained: each fold must score exactly what the earlier run's fold scored.
    const reused = await crossValidate({ ...job, epochs: 0, initFolds: first, workDir: second });
    expect(reused.untuned).toEqual(trained.untuned);

    await expect(crossValidate({ ...job, initFolds: first })).rejects.toThrow(/another --out/);
    const third = mkdtempSync(path.join(tmpdir(), 'crossval-'));
    dirs.push(third);
    await expect(
      crossValidate({ ...job, arch: 'unet', epochs: 0, initFolds: first, workDir: third }),
    ).rejects.toThrow(/fold-case1.*do not fit/);
    await expect(
      crossValidate({
        ...job,
        epochs: 0,
        initFolds: third,
        workDir: mkdtempSync(path.join(tmpdir(), 'crossval-')),
      }),
    ).rejects.toThrow(/no trained fold for patient case1/);
  }, 60_000);
});
