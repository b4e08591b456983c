/**
 * Training speed: images per second of real optimiser steps (the loop's `trainStep`: BCE + soft Dice,
 * Adam, BN in training mode) for the compact U-Net (DEFAULT_UNET_SPEC, ~1.9 M parameters) at 256²,
 * batch 4, on each backend that initialises here. The pure-JS cpu backend is ~25× slower than wasm, so it
 * gets a single timed step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildModel, DEFAULT_UNET_SPEC } from '../../main/model/arch';
import { initBackend, type BackendName } from '../../main/model/backend/select';
import { trainableVariables, trainStep } from '../../main/model/train/loop';

const SIZE = 256;
const BATCH = 4;

export async function bench(): Promise<Array<{ name: string; value: number; unit: string; note?: string }>> {
  const out: Array<{ name: string; value: number; unit: string; note?: string }> = [];
  const plan: Array<[BackendName, number]> = [
    ['tensorflow', 5],
    ['wasm', 3],
    ['cpu', 1],
  ];
  // TRACTUS_BENCH_BACKENDS=wasm,cpu limits the run (the cpu step at 256² takes minutes).
  const only = process.env.TRACTUS_BENCH_BACKENDS?.split(',');
  for (const [name, timedSteps] of plan) {
    if (only && !only.includes(name)) continue;
    let info;
    try {
      info = await initBackend(name);
    } catch {
      continue;
    }
    if (info.name !== name) continue; // fell back to another backend: measured under its own name
    const model = buildModel(DEFAULT_UNET_SPEC, SIZE);
    const optimizer = tf.train.adam(1e-3);
    const variables = trainableVariables(model);
    const x = tf.randomUniform([BATCH, SIZE, SIZE, 3]);
    const y = tf.cast(tf.greater(tf.randomUniform([BATCH, SIZE, SIZE, 3]), 0.9), 'float32');
    await trainStep(model, optimizer, variables, x, y); // warm-up: kernel set-up, first allocations
    const t0 = performance.now();
    for (let i = 0; i < timedSteps; i++) await trainStep(model, optimizer, variables, x, y);
    const seconds = (performance.now() - t0) / 1000;
    out.push({
      name: `train step unet ${SIZE}² batch ${BATCH} (${name})`,
      value: (timedSteps * BATCH) / seconds,
      unit: 'images/s',
      note: `${timedSteps} timed step(s) after 1 warm-up${info.simd !== null ? `, simd ${info.simd}, threads ${info.threads}` : ''}`,
    });
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  }
  return out;
}

// Run directly: `node --import tsx test/bench/train.bench.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit} (${r.note ?? ''})`);
}
