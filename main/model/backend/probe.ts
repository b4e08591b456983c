/**
 * Speed probes for the active tfjs backend, shared by `tractus doctor` and the benchmarks: matmul and
 * 3×3-conv GFLOP/s, and the train-step time of the 1.94 M-parameter bench U-Net. Each reports wall time
 * and process CPU time: on a shared machine wall time mostly measures the neighbours.
 */
import * as tf from '@tensorflow/tfjs-core';
import { benchLoss, buildBenchUnet, forwardMacsPerImage } from './bench-unet';

export interface Rate {
  /** Best wall-clock rate over the repetitions. */
  best: number;
  median: number;
  /** Rate by process CPU time (best repetition): what an idle core would do. */
  cpuBest: number;
  reps: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function summarise(work: number, wallMs: number[], cpuMsList: number[]): Rate {
  const rates = wallMs.map((ms) => work / ms).sort((a, b) => a - b);
  return {
    best: rates[rates.length - 1]!,
    median: rates[Math.floor(rates.length / 2)]!,
    cpuBest: work / Math.min(...cpuMsList),
    reps: rates.length,
  };
}

/** Repeat `run` (after one warm-up) until `seconds` have passed or maxReps; rates in work-units per ms. */
async function repeat(
  work: number,
  seconds: number,
  maxReps: number,
  run: () => Promise<void>,
): Promise<Rate> {
  await run();
  const wall: number[] = [];
  const cpu: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  while (wall.length < maxReps && (wall.length < 2 || performance.now() < deadline)) {
    const t0 = performance.now();
    const c0 = cpuMs();
    await run();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  return summarise(work, wall, cpu);
}

/** Square float32 matmul; GFLOP/s. */
export async function matMulGflops(seconds = 5, n = 512): Promise<Rate> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  try {
    const r = await repeat(2 * n ** 3, seconds, 1000, async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    });
    return scale(r, 1e-6);
  } finally {
    tf.dispose([a, b]);
  }
}

/** 3×3 same conv, batch 4, 128², 32→32 channels (a mid U-Net layer); GFLOP/s. */
export async function convGflops(seconds = 3): Promise<Rate> {
  const x = tf.randomNormal([4, 128, 128, 32]) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 32, 32]) as tf.Tensor4D;
  try {
    const r = await repeat(2 * 4 * 128 * 128 * 9 * 32 * 32, seconds, 100, async () => {
      const y = tf.conv2d(x, w, 1, 'same');
      await y.data();
      y.dispose();
    });
    return scale(r, 1e-6);
  } finally {
    tf.dispose([x, w]);
  }
}

function scale(r: Rate, k: number): Rate {
  return { ...r, best: r.best * k, median: r.median * k, cpuBest: r.cpuBest * k };
}

export interface TrainProbe {
  params: number;
  gflopPerImage: number;
  /** Images per second. */
  imagesPerSecond: Rate;
  /** Per-kernel milliseconds of one profiled step, largest first (nested kernels counted in their parent). */
  kernels: Array<{ name: string; ms: number; calls: number }>;
}

/** Time Adam steps of the bench U-Net (Dice + BCE) on random data in this thread. */
export async function trainStepProbe(size = 256, batch = 4, steps = 3): Promise<TrainProbe> {
  const model = buildBenchUnet({ size });
  const opt = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, size, size, 1]);
  const y = tf.cast(tf.greater(tf.randomUniform([batch, size, size, 3]), 0.7), 'float32');
  const step = async () => {
    const cost = opt.minimize(() => benchLoss(y, model.apply(x, { training: true }) as tf.Tensor), true);
    await cost!.data();
    cost!.dispose();
  };
  try {
    const rate = await repeat(batch, Number.POSITIVE_INFINITY, steps, step);
    const profile = await tf.profile(step);
    const byName = new Map<string, { ms: number; calls: number }>();
    for (const k of profile.kernels) {
      const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs) || 0;
      e.calls++;
      byName.set(k.name, e);
    }
    const kernels = [...byName].map(([name, v]) => ({ name, ...v })).sort((a, b) => b.ms - a.ms);
    return {
      params: model.countParams(),
      gflopPerImage: (3 * 2 * forwardMacsPerImage(model)) / 1e9,
      imagesPerSecond: scale(rate, 1000),
      kernels,
    };
  } finally {
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  }
}
