/**
 * Backend speed on this machine, per available backend: matmul and 3×3-conv GFLOP/s, and the train step
 * of the 1.94 M-parameter bench U-Net at 256², batch 4 (single thread, then data-parallel in 2 worker
 * threads on wasm), plus peak RSS. Reports best and median wall-clock rates and the CPU-time rate — on
 * a shared machine the wall clock mostly measures the neighbours. TRACTUS_BENCH_BACKENDS=wasm limits it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../../main/model/backend/select';
import { convGflops, matMulGflops, trainStepProbe, type Rate } from '../../main/model/backend/probe';
import { createDataParallelTrainer } from '../../main/model/parallel/data-parallel';
import type { BenchRow } from './run';

const SIZE = 256;
const BATCH = 4;

function rateRows(name: string, unit: string, r: Rate): BenchRow[] {
  return [
    { name: `${name} (best)`, value: r.best, unit, note: `median ${r.median.toFixed(2)}, ${r.reps} runs` },
    { name: `${name} (by CPU time)`, value: r.cpuBest, unit, note: 'load-independent estimate' },
  ];
}

async function dataParallelRows(workers: number): Promise<BenchRow[]> {
  const trainer = await createDataParallelTrainer({
    workers,
    backend: 'wasm',
    model: {
      module: new URL('../../main/model/backend/bench-unet.ts', import.meta.url).href,
      export: 'buildBenchUnet',
      options: { size: SIZE },
    },
  });
  try {
    const x = Float32Array.from({ length: BATCH * SIZE * SIZE }, (_, k) => Math.sin(k * 0.001));
    const y = Float32Array.from({ length: BATCH * SIZE * SIZE * 3 }, (_, k) =>
      Math.sin(k * 0.01) > 0.4 ? 1 : 0,
    );
    const rates: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await trainer.step(x, [BATCH, SIZE, SIZE, 1], y, [BATCH, SIZE, SIZE, 3]);
      if (i > 0) rates.push((BATCH * 1000) / r.stepMs); // step 0 warms up XNNPACK and the JIT
    }
    rates.sort((a, b) => a - b);
    return [
      {
        name: `train U-Net 256² b${BATCH}, ${workers} wasm workers (best)`,
        value: rates[rates.length - 1]!,
        unit: 'img/s',
        note: `median ${rates[Math.floor(rates.length / 2)]!.toFixed(2)}, ${rates.length} steps`,
      },
    ];
  } finally {
    await trainer.close();
  }
}

export async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const only = process.env.TRACTUS_BENCH_BACKENDS?.split(',');
  for (const name of ['tensorflow', 'wasm', 'cpu'] as BackendName[]) {
    if (only ? !only.includes(name) : name === 'cpu') continue; // cpu: ~25× slower, opt-in only
    let info;
    try {
      info = await initBackend(name);
    } catch {
      continue;
    }
    if (info.name !== name) continue;
    rows.push(...rateRows(`${name}: matmul 512²`, 'GFLOP/s', await matMulGflops(5)));
    rows.push(...rateRows(`${name}: conv 3×3 4×128²×32→32`, 'GFLOP/s', await convGflops(3)));
    const train = await trainStepProbe(SIZE, BATCH, 3);
    rows.push(...rateRows(`${name}: train U-Net 256² b${BATCH}, 1 thread`, 'img/s', train.imagesPerSecond));
    const top = train.kernels
      .slice(0, 6)
      .map((k) => `${k.name} ${k.ms.toFixed(0)}`)
      .join(', ');
    rows.push({
      name: `${name}: U-Net params / train GFLOP per image`,
      value: train.params,
      unit: 'params',
      note: `${train.gflopPerImage.toFixed(1)} GFLOP/img; top kernels ms: ${top}`,
    });
    tf.disposeVariables();
    if (name === 'wasm') {
      rows.push(...(await dataParallelRows(1)));
      rows.push(...(await dataParallelRows(2)));
    }
  }
  rows.push({ name: 'peak RSS', value: process.resourceUsage().maxRSS / 1024, unit: 'MiB' });
  return rows;
}
