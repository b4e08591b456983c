/**
 * Training speed: images per second of the training loop's real optimiser step (BCE + soft Dice, Adam, BN
 * in training mode) for the compact U-Net (DEFAULT_UNET_SPEC, ~1.9 M parameters) at 256², batch 4 — in this
 * thread on each backend that initialises here, and on wasm in 1 and 2 worker threads (data-parallel, the
 * way `tractus train` runs by default). Besides the wall-clock rate each row has a rate by CPU time
 * (process CPU over all threads, shared by the workers): what the same run would do with a core per worker
 * to itself. On a shared machine the wall clock mostly measures the neighbours; the note gives the load.
 * The pure-JS cpu backend is ~25× slower than wasm: opt-in with TRACTUS_BENCH_BACKENDS=cpu.
 */
import os from 'node:os';
import { buildModel, DEFAULT_UNET_SPEC } from '../../main/model/arch';
import { initBackend, type BackendName } from '../../main/model/backend/select';
import { inProcessRunner, workerRunner, type TrainRunner } from '../../main/model/parallel/train-runner';
import type { BenchRow } from './util';
import { DEFAULT_AUGMENT } from '../../main/model/augment';
import { DEFAULT_MODEL_DIR, loadModel } from '../../main/model/model-io';
import { labelledSlices, SampleBuilder, trainingBatches } from '../../main/model/train/dataset';
import { toyDataset } from '../unit/train-toy-data';

const SIZE = 256;
const BATCH = 4;
const TIMED_STEPS = 3;

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** A fixed batch: smooth inputs and sparse binary targets (the values do not change the step's cost). */
function batch(size = SIZE): { x: Float32Array; y: Float32Array; shape: number[] } {
  const n = BATCH * size * size * 3;
  return {
    x: Float32Array.from({ length: n }, (_, k) => Math.sin(k * 0.001)),
    y: Float32Array.from({ length: n }, (_, k) => (Math.sin(k * 0.01) > 0.8 ? 1 : 0)),
    shape: [BATCH, size, size, 3],
  };
}

async function measure(
  label: string,
  runner: TrainRunner,
  threads: number,
  what = `unet ${SIZE}²`,
  size = SIZE,
): Promise<BenchRow[]> {
  const { x, y, shape } = batch(size);
  await runner.step(x, shape, y, shape); // warm-up: kernel set-up, first allocations, JIT
  const wall: number[] = [];
  const c0 = cpuSeconds();
  const t0 = performance.now();
  for (let i = 0; i < TIMED_STEPS; i++) {
    const s0 = performance.now();
    await runner.step(x, shape, y, shape);
    wall.push((performance.now() - s0) / 1000);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds() - c0;
  const load = os.loadavg()[0]!.toFixed(1);
  const fastest = Math.min(...wall);
  return [
    {
      name: `train step ${what} b${BATCH}, ${label}`,
      value: (TIMED_STEPS * BATCH) / seconds,
      unit: 'images/s',
      note: `mean of ${TIMED_STEPS} steps after 1 warm-up; best step ${(BATCH / fastest).toFixed(2)} img/s; load ${load} on ${os.availableParallelism()} cores (shared)`,
    },
    {
      name: `train step ${what} b${BATCH}, ${label} (by CPU time)`,
      value: (TIMED_STEPS * BATCH * threads) / cpu,
      unit: 'images/s',
      note: `${cpu.toFixed(1)} CPU s over all threads for ${TIMED_STEPS * BATCH} images, ${threads} busy thread(s): each on an idle core`,
    },
  ];
}

export async function bench(): Promise<BenchRow[]> {
  const out: BenchRow[] = [];
  // TRACTUS_BENCH_BACKENDS=wasm,cpu chooses backends (default: tensorflow and wasm when present).
  const only = process.env.TRACTUS_BENCH_BACKENDS?.split(',');
  for (const name of ['tensorflow', 'wasm', 'cpu'] as BackendName[]) {
    if (only ? !only.includes(name) : name === 'cpu') continue;
    let info;
    try {
      info = await initBackend(name);
    } catch {
      continue;
    }
    if (info.name !== name) continue; // fell back to another backend: measured under its own name
    const model = buildModel(DEFAULT_UNET_SPEC, SIZE);
    const here = inProcessRunner(model, 1e-3);
    try {
      out.push(...(await measure(`${name}, this thread`, here, 1)));
    } finally {
      await here.close();
    }
    if (name === 'wasm') {
      for (const workers of [1, 2]) {
        const runner = await workerRunner(model, { workers, learningRate: 1e-3, backend: name });
        try {
          out.push(
            ...(await measure(`${name}, ${workers} worker thread${workers > 1 ? 's' : ''}`, runner, workers)),
          );
        } finally {
          await runner.close();
        }
      }
    }
    model.dispose();
    if (name === 'wasm') out.push(...(await shippedRecipe()));
  }
  return out;
}

/**
 * The shipped model's own training step (its card's architecture and input size), and what building one
 * training sample costs besides (reading, normalising, 2.5D stacking, resampling, augmentation): the
 * loop's other half, measured on a synthetic scan so it needs no data folder.
 */
async function shippedRecipe(): Promise<BenchRow[]> {
  const { card } = await loadModel(DEFAULT_MODEL_DIR);
  const size = card.input.size.height;
  const model = buildModel(card.architecture, card.input.size);
  const runner = inProcessRunner(model, 1e-3);
  const rows: BenchRow[] = [];
  try {
    rows.push(
      ...(await measure(
        'wasm, this thread',
        runner,
        1,
        `shipped recipe ${card.architecture.name} ${size}²`,
        size,
      )),
    );
  } finally {
    await runner.close();
    model.dispose();
  }
  const side = 266;
  const toy = toyDataset(1, 24, side);
  const builder = new SampleBuilder({
    input: card.input.size,
    sliceStride: card.input.sliceStride,
    ...(card.input.spacingMm ? { spacingMm: card.input.spacingMm } : {}),
  });
  const slices = labelledSlices(toy);
  const c0 = cpuSeconds();
  let images = 0;
  for await (const b of trainingBatches(
    slices,
    builder,
    { batchSize: BATCH, organFraction: 0.7, augment: DEFAULT_AUGMENT },
    8,
    1,
    0,
  )) {
    images += b.size;
  }
  const cpu = cpuSeconds() - c0;
  rows.push({
    name: `train samples for the shipped recipe (read, 2.5D, resample, augment) (by CPU time)`,
    value: images / cpu,
    unit: 'images/s',
    note: `${images} samples of ${side}² slices at ${size}², default augmentation`,
  });
  return rows;
}

// Run directly: `node --import tsx test/bench/train.bench.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit} (${r.note ?? ''})`);
}
