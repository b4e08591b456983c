import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel, DEFAULT_UNET_SPEC, EFFICIENTNET_VARIANTS, type ArchSpec } from '../../main/model/arch';
import { isInputError } from '../../main/core/errors';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** conv (no bias) + batch norm (gamma, beta, moving mean, moving variance). */
const convBn = (k: number, cin: number, cout: number) => k * k * cin * cout + 4 * cout;

describe('compact U-Net', () => {
  it('has the hand-counted ~1.9 M parameters with filters 16-32-64-128-256', () => {
    const f = [16, 32, 64, 128, 256];
    let expected = 0;
    let cin = 3;
    for (const c of f) {
      expected += convBn(3, cin, c) + convBn(3, c, c);
      cin = c;
    }
    for (let l = f.length - 2; l >= 0; l--) {
      const c = f[l]!;
      expected += 2 * 2 * f[l + 1]! * c + c; // 2×2 transposed conv with bias
      expected += convBn(3, 2 * c, c) + convBn(3, c, c); // after concat with the skip
    }
    expected += 16 * 3 + 3; // 1×1 sigmoid head
    const model = buildModel(DEFAULT_UNET_SPEC, 256);
    expect(model.countParams()).toBe(expected);
    expect(expected).toBeGreaterThan(1.85e6);
    expect(expected).toBeLessThan(2.0e6);
    model.dispose();
  });

  it('maps N×H×W×3 to N×H×W×3 probabilities, with the output bias at the −4 foreground prior', () => {
    for (const upsampling of ['transpose', 'bilinear'] as const) {
      const model = buildModel(
        { name: 'unet', filters: [4, 8, 16], upsampling, inChannels: 3, outChannels: 3 },
        {
          height: 32,
          width: 48,
        },
      );
      const y = tf.tidy(() => model.predict(tf.randomUniform([2, 32, 48, 3])) as tf.Tensor);
      expect(y.shape).toEqual([2, 32, 48, 3]);
      const v = y.dataSync();
      expect(Math.min(...v)).toBeGreaterThan(0);
      expect(Math.max(...v)).toBeLessThan(1);
      y.dispose();
      const bias = model.getLayer('head').getWeights()[1]!.dataSync();
      expect(Array.from(bias)).toEqual([-4, -4, -4]);
      model.dispose();
    }
  });

  it('rejects an input size the encoder cannot halve evenly, with an InputError', () => {
    expect(() => buildModel({ ...DEFAULT_UNET_SPEC }, 100)).toThrow(/multiples of 16/);
    try {
      buildModel({ name: 'effunet', variant: 'b0', inChannels: 3, outChannels: 3 }, 48);
    } catch (e) {
      expect(isInputError(e)).toBe(true);
    }
  });
});

/**
 * EfficientNet-B0 block table (Tan & Le 2019, Table 1): kernel, stride, in, out, expansion, repeats.
 * Counted by hand here, independently of the code under test.
 */
const B0_TABLE = [
  [3, 1, 32, 16, 1, 1],
  [3, 2, 16, 24, 6, 2],
  [5, 2, 24, 40, 6, 2],
  [3, 2, 40, 80, 6, 3],
  [5, 1, 80, 112, 6, 3],
  [5, 2, 112, 192, 6, 4],
  [3, 1, 192, 320, 6, 1],
] as const;

function b0EncoderParams(): number {
  let total = convBn(3, 3, 32); // stem
  for (const [k, , fin, fout, e, repeats] of B0_TABLE) {
    for (let r = 0; r < repeats; r++) {
      const cin = r === 0 ? fin : fout;
      const mid = cin * e;
      const se = Math.max(1, Math.floor(cin / 4));
      if (e !== 1) total += convBn(1, cin, mid);
      total += k * k * mid + 4 * mid; // depthwise + BN
      total += mid * se + se + se * mid + mid; // squeeze-excitation 1×1 convs with bias
      total += convBn(1, mid, fout); // projection
    }
  }
  return total;
}

/** Encoder parameters: every layer that is not part of the U-Net decoder or output head. */
function encoderParams(model: tfl.LayersModel): number {
  return model.layers
    .filter((l) => !l.name.startsWith('dec') && l.name !== 'head')
    .reduce((sum, l) => sum + l.countParams(), 0);
}

/**
 * Last-stage and head channels per variant and the parameter totals of the Keras reference models with
 * their 1000-class top (keras.applications EfficientNetB0…B7 model.summary(), minus the 7 statistics of
 * Keras' input Normalization layer, which Tractus does not have); the paper's Table 2 rounds these to
 * 5.3 M, 7.8 M, 9.2 M, 12 M, 19 M, 30 M, 43 M, 66 M.
 */
const REFERENCE = {
  b0: { last: 320, head: 1280, total: 5_330_571 - 7 },
  b1: { last: 320, head: 1280, total: 7_856_239 - 7 },
  b2: { last: 352, head: 1408, total: 9_177_569 - 7 },
  b3: { last: 384, head: 1536, total: 12_320_535 - 7 },
  b4: { last: 448, head: 1792, total: 19_466_823 - 7 },
  b5: { last: 512, head: 2048, total: 30_562_527 - 7 },
  b6: { last: 576, head: 2304, total: 43_265_143 - 7 },
  b7: { last: 640, head: 2560, total: 66_658_687 - 7 },
};

describe('EfficientNet U-Net', () => {
  it("has B0's encoder parameter count from the paper's block table", () => {
    const model = buildModel({ name: 'effunet', variant: 'b0', inChannels: 3, outChannels: 3 }, 32);
    expect(encoderParams(model)).toBe(b0EncoderParams());
    // + 1×1 head conv + BN + 1000-class dense = the published B0 size
    const { last, head, total } = REFERENCE.b0;
    expect(b0EncoderParams() + convBn(1, last, head) + head * 1000 + 1000).toBe(total);
    model.dispose();
  });

  it('builds every variant B0…B7 (at 32², to stay fast) with the published encoder sizes', () => {
    for (const variant of EFFICIENTNET_VARIANTS) {
      const spec: ArchSpec = {
        name: 'effunet',
        variant,
        decoderFilters: [16, 8, 8, 8, 8],
        inChannels: 3,
        outChannels: 3,
      };
      const model = buildModel(spec, 32);
      const { last, head, total } = REFERENCE[variant];
      expect(encoderParams(model) + convBn(1, last, head) + head * 1000 + 1000, variant).toBe(total);
      const y = tf.tidy(() => model.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor);
      expect(y.shape).toEqual([1, 32, 32, 3]);
      y.dispose();
      model.dispose();
    }
  }, 60_000);
});

describe('training step on cpu', () => {
  const specs: Array<[string, ArchSpec]> = [
    ['unet, transposed conv', { name: 'unet', filters: [4, 8], inChannels: 3, outChannels: 3 }],
    [
      'unet, bilinear',
      { name: 'unet', filters: [4, 8], upsampling: 'bilinear', inChannels: 3, outChannels: 3 },
    ],
    [
      'effunet b0',
      { name: 'effunet', variant: 'b0', decoderFilters: [8, 8, 8, 8, 8], inChannels: 3, outChannels: 3 },
    ],
  ];
  for (const [label, spec] of specs) {
    it(`${label}: one gradient step lowers the loss on a fixed batch`, async () => {
      const model = buildModel(spec, 32);
      // Plain SGD: Adam's per-weight updates of B0's 3.6 M encoder weights would double the test time.
      model.compile({ optimizer: tf.train.sgd(0.1), loss: 'binaryCrossentropy' });
      const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 7);
      const y = tf.tidy(() => tf.cast(tf.greater(x, 0.5), 'float32'));
      const before = (await model.trainOnBatch(x, y)) as number;
      const after = (await model.trainOnBatch(x, y)) as number;
      expect(Number.isFinite(before) && Number.isFinite(after)).toBe(true);
      expect(after).toBeLessThan(before);
      tf.dispose([x, y]);
      model.dispose();
    }, 60_000);
  }
});

describe('seeded initial weights', () => {
  const small: ArchSpec = { ...DEFAULT_UNET_SPEC, filters: [4, 8] };
  const weightsOf = (model: tfl.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

  it('the same seed gives the same weights, another seed others; Math.random is restored', () => {
    const random = Math.random;
    const [a, b, c] = [buildModel(small, 16, 7), buildModel(small, 16, 7), buildModel(small, 16, 8)];
    expect(Math.random).toBe(random);
    expect(weightsOf(a)).toEqual(weightsOf(b));
    // the first kernel (random) differs; zero biases and batch-norm constants do not
    expect(weightsOf(a)[0]).not.toEqual(weightsOf(c)[0]);
    for (const m of [a, b, c]) m.dispose();
  });

  it('without a seed the weights differ from build to build, as tfjs draws them', () => {
    const [a, b] = [buildModel(small, 16), buildModel(small, 16)];
    expect(weightsOf(a)[0]).not.toEqual(weightsOf(b)[0]);
    for (const m of [a, b]) m.dispose();
  });
});
