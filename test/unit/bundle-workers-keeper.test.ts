/**
 * The inference pool the app keeps between scans (main/model/parallel/infer-pool-keeper.ts) and the engine's
 * segmentation on it: the pool is reused, closed when idle, replaced on a model change or after a cancel,
 * and workers that cannot start leave the scans on this thread (told once). Source mode (tsx workers).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Scan } from '../../main/core/types';
import { inMemoryScan } from '../helpers/scans';
import { createEngine } from '../../main/ipc/engine';
import { initBackend } from '../../main/model/backend/select';
import { segmentScan } from '../../main/model/infer';
import { loadModel } from '../../main/model/model-io';
import type { InferencePool } from '../../main/model/parallel/infer-pool';
import { keepInferencePool } from '../../main/model/parallel/infer-pool-keeper';
import { saveTinyVariedModel } from './parallel-infer-fixtures';

/** A scan of `n` 40×36 slices with a different ramp pattern each (no random numbers). */
function rampScan(n: number): Scan {
  const [width, height] = [40, 36];
  return inMemoryScan({
    id: 'case7_day2',
    slices: n,
    width,
    height,
    pixel: (i, p) => ((p % width) * (i + 5) * 11 + Math.floor(p / width) * 31 + i * 173) % 1700,
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const takePool = (pool: InferencePool | undefined) => Promise.resolve(pool);

let modelDir = '';
beforeAll(async () => {
  await initBackend('wasm');
  modelDir = await saveTinyVariedModel();
});

describe('keepInferencePool', () => {
  it('keeps one pool between scans and closes it when idle', async () => {
    const keeper = keepInferencePool({ idleMs: 400, workers: () => 1 });
    try {
      const first = await keeper.use(modelDir, 'wasm', undefined, takePool);
      const second = await keeper.use(modelDir, 'wasm', undefined, takePool);
      expect(first).toBeDefined();
      expect(second).toBe(first);
      expect(first!.size).toBe(1);
      expect(keeper.active).toBe(true);
      await sleep(900);
      expect(keeper.active).toBe(false);
      expect(first!.broken?.message).toBe('inference pool is closed');
    } finally {
      await keeper.close();
    }
  });

  it('replaces the pool for another model and after a cancelled scan', async () => {
    const keeper = keepInferencePool({ idleMs: 60_000, workers: () => 1 });
    try {
      const first = await keeper.use(modelDir, 'wasm', undefined, takePool);
      const otherModel = await saveTinyVariedModel();
      const second = await keeper.use(otherModel, 'wasm', undefined, takePool);
      expect(second).not.toBe(first);
      expect(first!.broken).toBeDefined();

      const controller = new AbortController();
      const cancelled = keeper.use(otherModel, 'wasm', controller.signal, async (pool) => {
        expect(pool).toBe(second);
        const x = new Float32Array(32 * 32 * 3);
        const running = pool!.predict(x, 1);
        controller.abort(new Error('cancelled by the user'));
        return running;
      });
      await expect(cancelled).rejects.toThrow();
      expect(second!.broken).toBeDefined();
      const third = await keeper.use(otherModel, 'wasm', undefined, takePool);
      expect(third).toBeDefined();
      expect(third).not.toBe(second);
      expect(third!.broken).toBeUndefined();
    } finally {
      await keeper.close();
    }
  });

  it('runs on this thread when the workers cannot start, and says so once', async () => {
    const said: string[] = [];
    const keeper = keepInferencePool({
      idleMs: 60_000,
      workers: () => 2,
      log: (m) => said.push(m),
      workerUrl: new URL('file:///nonexistent/tractus-infer-worker.js'),
    });
    try {
      expect(await keeper.use(modelDir, 'wasm', undefined, takePool)).toBeUndefined();
      expect(await keeper.use(modelDir, 'wasm', undefined, takePool)).toBeUndefined();
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/^2 inference workers did not start \(.+\); segmenting on the main thread$/);
    } finally {
      await keeper.close();
    }
  });
});

describe('engine segmentation in worker threads', () => {
  let home = '';
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('gives the masks this thread gives, scan after scan, and closes its workers', async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'tractus-engine-'));
    const engine = createEngine({ home, shippedModelDir: modelDir, inferenceIdleMs: 60_000 });
    const scan = rampScan(7);
    const expected = await segmentScan(scan, await loadModel(modelDir));
    try {
      for (let run = 0; run < 2; run++) {
        const progress: number[] = [];
        const { masks, uncertainty } = await engine.segmentScan(scan, {
          signal: new AbortController().signal,
          onProgress: (p) => progress.push(p.done),
        });
        expect([...masks.keys()]).toEqual(expected.slices.map((s) => s.id));
        for (const s of expected.slices) expect(masks.get(s.id)).toEqual(s.masks);
        for (const s of expected.slices) expect(uncertainty[s.id]).toBeCloseTo(s.uncertainty, 12);
        expect(progress.at(-1)).toBe(7);
      }
    } finally {
      await engine.close?.();
    }
  });

  it('runs the network in the workers: a crashed worker fails its scan, the next scan gets new workers', async () => {
    // The stand-in worker exits when given a batch of 3 slices: 7 slices in batches of 4 make one.
    const engine = createEngine({
      home,
      shippedModelDir: modelDir,
      inferenceWorkerUrl: new URL('./parallel-infer-crash-worker.ts', import.meta.url),
    });
    const opts = { signal: new AbortController().signal, onProgress: () => {} };
    try {
      await expect(engine.segmentScan(rampScan(7), opts)).rejects.toThrow(
        /inference worker stopped unexpectedly \(worker exited with code 7\)/,
      );
      const { masks } = await engine.segmentScan(rampScan(4), opts);
      expect(masks.size).toBe(4);
    } finally {
      await engine.close?.();
    }
  });
});
