/**
 * Inference in worker threads: the same masks and scores as on the main thread (byte for byte), a
 * stopped worker reported clearly instead of a hang, and close() ending a forward pass in progress.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORGANS } from '../../main/core/organs';
import type { Scan } from '../../main/core/types';
import { inMemoryScan } from '../helpers/scans';
import { initBackend } from '../../main/model/backend/select';
import { segmentScan } from '../../main/model/infer';
import { loadModel, type LoadedModel } from '../../main/model/model-io';
import {
  defaultInferenceWorkers,
  onnxThreadsPerWorker,
  scanRunOptions,
  startInferencePool,
  type InferencePool,
} from '../../main/model/parallel/infer-pool';
import { saveTinyVariedModel } from './parallel-infer-fixtures';

const CRASH_WORKER = new URL('./parallel-infer-crash-worker.ts', import.meta.url);

function rampScan(n: number, width: number, height: number): Scan {
  return inMemoryScan({
    id: 'case1_day1',
    slices: n,
    width,
    height,
    pixel: (i, p) => ((p % width) * (i + 3) * 13 + Math.floor(p / width) * 29 + i * 211) % 1500,
  });
}

let loaded: LoadedModel;
let pool: InferencePool | undefined;

beforeAll(async () => {
  await initBackend('wasm');
  loaded = await loadModel(await saveTinyVariedModel());
});

afterAll(async () => {
  await pool?.close();
  loaded.model.dispose();
});

describe('defaultInferenceWorkers', () => {
  it('one per core up to 2 on wasm, cpu and ONNX Runtime, 1 on native TensorFlow (it threads itself)', () => {
    expect(defaultInferenceWorkers('wasm', 2)).toBe(2);
    expect(defaultInferenceWorkers('cpu', 16)).toBe(2);
    expect(defaultInferenceWorkers('wasm', 1)).toBe(1);
    expect(defaultInferenceWorkers('tensorflow', 8)).toBe(1);
    expect(defaultInferenceWorkers('onnxruntime', 2)).toBe(2);
    expect(defaultInferenceWorkers('onnxruntime', 1)).toBe(1);
  });

  it('ONNX Runtime workers share the cores: each session gets its part as threads', () => {
    expect(onnxThreadsPerWorker(2, 2)).toBe(1);
    expect(onnxThreadsPerWorker(1, 2)).toBe(2);
    expect(onnxThreadsPerWorker(2, 8)).toBe(4);
    expect(onnxThreadsPerWorker(4, 2)).toBe(1);
  });
});

describe('scanRunOptions', () => {
  const stub = (backend: InferencePool['backend']) =>
    ({
      size: 2,
      backend,
      segment: async () => [],
      predict: async () => new Float32Array(),
    }) as unknown as InferencePool;
  it('keeps two batches per worker and one more in flight; ONNX Runtime workers take one slice at a time', () => {
    const onnx = stub('onnxruntime');
    expect(scanRunOptions(onnx, undefined)).toEqual({ segment: onnx.segment, inFlight: 5, batch: 1 });
    const wasm = stub('wasm');
    // tfjs batches its convolutions: the default batch stays
    expect(scanRunOptions(wasm, undefined)).toEqual({ segment: wasm.segment, inFlight: 5 });
  });

  it('without workers: the given predictor on this thread, else the model here', () => {
    const local = async () => new Float32Array();
    expect(scanRunOptions(undefined, local)).toEqual({ predict: local });
    expect(scanRunOptions(undefined, undefined)).toEqual({});
  });
});

describe('segmentScan on 2 inference workers', () => {
  it('gives the same masks, scores and uncertainties as the main thread, in slice order', async () => {
    pool = await startInferencePool({ modelDir: loaded.dir, backend: 'wasm', workers: 2 });
    const scan = rampScan(11, 40, 28); // 11 slices in batches of 3: uneven last batch
    const here = await segmentScan(scan, loaded, { batch: 3 });
    const progress: number[] = [];
    // As the app and the CLI run it: forward pass and post-processing in the workers.
    const there = await segmentScan(scan, loaded, {
      batch: 3,
      segment: pool.segment,
      inFlight: pool.size + 1,
      onProgress: (done) => progress.push(done),
    });
    // Forward passes in the workers, post-processing here.
    const predicted = await segmentScan(scan, loaded, { batch: 3, predict: pool.predict, inFlight: 3 });
    expect(predicted.slices.map((s) => s.scores)).toEqual(here.slices.map((s) => s.scores));
    expect(there.slices.map((s) => s.uncertainty)).toEqual(here.slices.map((s) => s.uncertainty));
    expect(progress).toEqual([3, 6, 9, 11]);
    expect(there.slices.map((s) => s.index)).toEqual([...Array(11).keys()]);
    // Not a vacuous comparison: partial masks whose sizes vary from slice to slice and organ to organ.
    const sizes = here.slices.flatMap((s) =>
      ORGANS.map((o) => s.masks[o]?.data.reduce((a, b) => a + b, 0) ?? 0),
    );
    expect(new Set(sizes).size).toBeGreaterThan(10);
    expect(sizes.every((n) => n < 40 * 28)).toBe(true);
    expect(there.slices.map((s) => s.scores)).toEqual(here.slices.map((s) => s.scores));
    for (const [k, s] of there.slices.entries()) {
      const mine = here.slices[k]!;
      expect(Object.keys(s.masks)).toEqual(Object.keys(mine.masks));
      for (const organ of ORGANS.filter((o) => s.masks[o])) {
        expect(Buffer.from(s.masks[organ]!.data).equals(Buffer.from(mine.masks[organ]!.data))).toBe(true);
      }
    }
  });

  it('close() ends a forward pass in progress: the pending predict rejects, later ones too', async () => {
    const p = pool ?? (await startInferencePool({ modelDir: loaded.dir, backend: 'wasm', workers: 2 }));
    pool = undefined;
    const x = new Float32Array(64 * 32 * 32 * 3).fill(0.5);
    // Expectation attached before close(): a rejection nobody listens to yet would crash the test process.
    const running = expect(p.predict(x, 64)).rejects.toThrow(/worker exited/);
    await p.close();
    await running;
    await expect(p.predict(new Float32Array(32 * 32 * 3), 1)).rejects.toThrow();
  });
});

describe('a worker that stops', () => {
  it('fails the batch with a clear reason, marks the pool broken, and never hangs', async () => {
    const p = await startInferencePool({
      modelDir: loaded.dir,
      backend: 'wasm',
      workers: 2,
      workerUrl: CRASH_WORKER,
    });
    try {
      const ok = await p.predict(new Float32Array(2 * 32 * 32 * 3).fill(0.2), 2);
      expect(ok).toHaveLength(2 * 32 * 32 * 3);
      expect(p.broken).toBeUndefined();
      await expect(p.predict(new Float32Array(3 * 32 * 32 * 3), 3)).rejects.toThrow(
        'inference worker stopped unexpectedly (worker exited with code 7)',
      );
      expect(p.broken?.message).toContain('stopped unexpectedly');
      // Fails at once, even though the other worker is still alive: the caller starts a new pool.
      await expect(p.predict(new Float32Array(32 * 32 * 3), 1)).rejects.toThrow('stopped unexpectedly');
    } finally {
      await p.close();
    }
  });

  it('a worker that cannot load the model fails the start with the reason', async () => {
    await expect(
      startInferencePool({ modelDir: '/nonexistent/model', backend: 'wasm', workers: 1 }),
    ).rejects.toThrow(/inference worker failed: .*nonexistent/);
  });
});
