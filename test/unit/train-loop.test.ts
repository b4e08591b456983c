import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../main/model/arch';
import { initBackend } from '../../main/model/backend/select';
import { labelledSlices, SampleBuilder } from '../../main/model/train/dataset';
import { DEFAULT_LOOP, runTraining, type LoopOptions } from '../../main/model/train/loop';
import { toyDataset } from './train-toy-data';

const SIZE = 32;
const temps: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tractus-train-'));
  temps.push(d);
  return d;
};

let backend = '';
beforeAll(async () => {
  // The acceptance target is wasm (with the backend helper's gradient kernels); cpu is the fallback.
  backend = (await initBackend('wasm')).name;
  if (backend !== 'wasm') console.warn(`train-loop tests running on ${backend}: wasm unavailable`);
});
afterAll(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tinyModel() {
  return buildModel(
    { name: 'unet', filters: [8, 16], inChannels: 3, outChannels: 3, upsampling: 'bilinear' },
    SIZE,
  );
}

describe('training loop', () => {
  it('overfits a few synthetic slices to validation Dice ≥ 0.9', async () => {
    tf.setBackend(backend);
    const slices = labelledSlices(toyDataset(1, 6, SIZE));
    const builder = new SampleBuilder({ input: { height: SIZE, width: SIZE }, sliceStride: 1 });
    const out = tmp();
    const model = tinyModel();
    const result = await runTraining(
      model,
      // Validating on the training slices measures fitting: the point of this test.
      { train: slices, val: slices, builder },
      {
        ...DEFAULT_LOOP,
        epochs: 30,
        stepsPerEpoch: 8,
        batchSize: 4,
        learningRate: 0.02,
        organFraction: null,
        earlyStopPatience: 30,
        outDir: out,
        resume: false,
      },
    );
    const best = result.best!;
    console.log(
      `overfit on ${backend}: best epoch ${result.bestEpoch}, val Dice`,
      best.valDice,
      `${result.imagesPerSecond.toFixed(1)} img/s`,
    );
    expect(best.valMeanDice).toBeGreaterThanOrEqual(0.9);
    const lines = readFileSync(path.join(out, 'history.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBe(result.lastEpoch);
    model.dispose();
  }, 300_000);

  /** Three epochs on two toy slices without validation, from 0.01 down to 0.001 by `opts`' schedule. */
  async function trainScheduled(opts: Partial<LoopOptions>) {
    tf.setBackend(backend);
    const slices = labelledSlices(toyDataset(1, 2, SIZE));
    const builder = new SampleBuilder({ input: { height: SIZE, width: SIZE }, sliceStride: 1 });
    const model = tinyModel();
    const result = await runTraining(
      model,
      { train: slices, val: [], builder },
      {
        ...DEFAULT_LOOP,
        epochs: 3,
        stepsPerEpoch: 1,
        batchSize: 2,
        learningRate: 0.01,
        minLearningRate: 0.001,
        outDir: tmp(),
        resume: false,
        ...opts,
      },
    );
    model.dispose();
    return result;
  }

  it('anneals the learning rate epoch by epoch with the cosine schedule', async () => {
    const result = await trainScheduled({ lrSchedule: 'cosine' });
    // base, halfway ((0.01 + 0.001) / 2), floor
    const rates = result.history.map((r) => r.learningRate);
    expect(rates).toHaveLength(3);
    [0.01, 0.0055, 0.001].forEach((lr, i) => expect(rates[i]).toBeCloseTo(lr, 12));
  }, 120_000);

  it('anneals per step with cosine-step and, with keep last, keeps the last epoch whatever the loss', async () => {
    const result = await trainScheduled({ lrSchedule: 'cosine-step', keep: 'last', stepsPerEpoch: 2 });
    // Each epoch records the rate of its last step: steps 1, 3 and 5 of 0…5, i.e. 1/6, 3/6 and 5/6 of the run.
    const rates = result.history.map((r) => r.learningRate);
    const at = (t: number) => 0.001 + (0.009 * (1 + Math.cos(Math.PI * t))) / 2;
    [at(1 / 6), at(3 / 6), at(5 / 6)].forEach((lr, i) => expect(rates[i]).toBeCloseTo(lr, 12));
    expect(result.bestEpoch).toBe(3);
    expect(result.history.map((r) => r.best)).toEqual([true, true, true]);
  }, 120_000);
});
