import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/model/backend/select';
import { adamWithLearningRate, copyAdamState } from '../../main/model/train/adam-state';
import { inProcessRunner } from '../../main/model/parallel/train-runner';
import { buildModel } from '../../main/model/arch';

beforeAll(async () => {
  await initBackend('wasm');
});

/** One Adam step on f(w) = Σ w² from `w`, returning the updated values. */
async function stepOn(optimizer: tf.AdamOptimizer, w: tf.Variable): Promise<Float32Array> {
  optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
  return (await w.data()) as Float32Array;
}

describe('Adam state across a learning-rate change', () => {
  it('continues the moments and step count at the new rate, and leaks no tensor over 200 changes', async () => {
    const start = [1, -2, 3];
    // Reference: Adam's update written out for f = Σ w² (gradient 2w), two steps at lr 0.1 then one at 0.01.
    const b1 = 0.9;
    const b2 = 0.999;
    const eps = 1e-7;
    let w = [...start];
    let m = [0, 0, 0];
    let v = [0, 0, 0];
    [0.1, 0.1, 0.01].forEach((lr, k) => {
      const t = k + 1;
      w = w.map((wi, i) => {
        const g = 2 * wi;
        m[i] = b1 * m[i]! + (1 - b1) * g;
        v[i] = b2 * v[i]! + (1 - b2) * g * g;
        const mh = m[i]! / (1 - b1 ** t);
        const vh = v[i]! / (1 - b2 ** t);
        return wi - (lr * mh) / (Math.sqrt(vh) + eps);
      });
      m = [...m];
      v = [...v];
    });

    const variable = tf.variable(tf.tensor1d(start));
    let optimizer = tf.train.adam(0.1);
    await stepOn(optimizer, variable);
    await stepOn(optimizer, variable);
    const before = tf.memory().numTensors;
    // Many changes (a per-step schedule makes one per step), ending at 0.01.
    for (let k = 0; k < 200; k++) optimizer = await adamWithLearningRate(optimizer, k === 199 ? 0.01 : 0.05);
    expect(tf.memory().numTensors).toBe(before);
    const got = await stepOn(optimizer, variable);
    got.forEach((x, i) => expect(x).toBeCloseTo(w[i]!, 5));

    const copy = await copyAdamState(optimizer);
    expect(tf.memory().numTensors).toBe(before + copy.length);
    tf.dispose(copy.map((c) => c.tensor));
    optimizer.dispose();
    variable.dispose();
  });

  it('a training runner changes its rate every step without growing the tensor count', async () => {
    const model = buildModel(
      { name: 'unet', filters: [4, 8], inChannels: 3, outChannels: 3, upsampling: 'bilinear' },
      16,
    );
    const runner = inProcessRunner(model, 1e-3);
    const x = new Float32Array(2 * 16 * 16 * 3).fill(0.5);
    const y = new Float32Array(2 * 16 * 16 * 3);
    await runner.step(x, [2, 16, 16, 3], y, [2, 16, 16, 3]);
    await runner.setLearningRate(9e-4);
    const before = tf.memory().numTensors;
    for (let k = 0; k < 20; k++) {
      await runner.setLearningRate(1e-3 * (1 - k / 20));
      await runner.step(x, [2, 16, 16, 3], y, [2, 16, 16, 3]);
    }
    expect(tf.memory().numTensors).toBe(before);
    const saved = await runner.optimizerWeights();
    await runner.setOptimizerWeights(saved);
    tf.dispose(saved.map((s) => s.tensor));
    expect(tf.memory().numTensors).toBe(before);
    await runner.close();
    model.dispose();
  });
});
