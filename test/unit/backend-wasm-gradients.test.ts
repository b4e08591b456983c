/**
 * The wasm gradient kernels against the pure-JS cpu backend (tfjs's reference implementation) on seeded
 * random inputs: strides 1 and 2, same/valid padding, dilation where the op allows it, several channel
 * counts, batch > 1. Then whole-network gradient steps for each layer type a U-Net or EfficientNet-U-Net
 * uses, which would throw "kernel not registered" if any backward kernel were missing on wasm.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../main/model/backend/select';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

function randomValues(n: number, seed: number): Float32Array {
  const r = seeded(seed);
  return Float32Array.from({ length: n }, r);
}

/** Run fn on both backends with the same input values; returns [wasm, cpu] results as flat arrays. */
async function onBoth(
  shapes: number[][],
  fn: (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<Array<[Float32Array, Float32Array]>> {
  const values = shapes.map((s, k) =>
    randomValues(
      s.reduce((a, b) => a * b, 1),
      17 + k * 101,
    ),
  );
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const outs = fn(...shapes.map((s, k) => tf.tensor(values[k]!, s)));
      return (Array.isArray(outs) ? outs : [outs]).map((o) => o.dataSync() as Float32Array);
    });
  };
  const wasm = await run('wasm');
  const cpu = await run('cpu');
  await tf.setBackend('wasm');
  return wasm.map((w, k) => [w, cpu[k]!]);
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let k = 0; k < expected.length; k++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[k]! - expected[k]!));
    maxRef = Math.max(maxRef, Math.abs(expected[k]!));
  }
  return maxDiff / Math.max(maxRef, 1e-12);
}

beforeAll(async () => {
  const info = await initBackend('wasm');
  expect(info.name).toBe('wasm');
});

type Pad = 'same' | 'valid';
const convCases: Array<{
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: Pad;
}> = [
  { b: 2, h: 9, w: 11, ci: 3, co: 5, k: 3, s: 1, pad: 'same' },
  { b: 2, h: 9, w: 11, ci: 3, co: 5, k: 3, s: 1, pad: 'valid' },
  { b: 3, h: 10, w: 8, ci: 4, co: 2, k: 3, s: 2, pad: 'same' },
  { b: 2, h: 11, w: 9, ci: 2, co: 6, k: 3, s: 2, pad: 'valid' },
  { b: 2, h: 8, w: 8, ci: 16, co: 8, k: 1, s: 1, pad: 'same' },
  { b: 2, h: 12, w: 12, ci: 5, co: 7, k: 5, s: 2, pad: 'same' },
  { b: 2, h: 8, w: 10, ci: 6, co: 4, k: 2, s: 2, pad: 'same' },
  { b: 1, h: 7, w: 7, ci: 3, co: 3, k: 4, s: 3, pad: 'valid' },
];

describe('Conv2DBackpropFilter / Conv2DBackpropInput on wasm match cpu', () => {
  for (const c of convCases) {
    const name = `b${c.b} ${c.h}x${c.w} ${c.ci}->${c.co} k${c.k} s${c.s} ${c.pad}`;
    it(name, async () => {
      const x: [number, number, number, number] = [c.b, c.h, c.w, c.ci];
      const filterShape: [number, number, number, number] = [c.k, c.k, c.ci, c.co];
      const outShape = tf.tidy(
        () => tf.conv2d(tf.zeros(x) as tf.Tensor4D, tf.zeros(filterShape) as tf.Tensor4D, c.s, c.pad).shape,
      );
      const results = await onBoth([x, outShape, filterShape], (xt, dy, f) => [
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: xt!, dy: dy! },
          {
            strides: [c.s, c.s],
            pad: c.pad,
            dataFormat: 'NHWC',
            filterShape,
          },
        ) as tf.Tensor,
        tf.conv2dTranspose(
          dy as tf.Tensor4D,
          f as tf.Tensor4D,
          x as [number, number, number, number],
          c.s,
          c.pad,
        ),
      ]);
      for (const [wasm, cpu] of results) expect(relativeError(wasm, cpu)).toBeLessThanOrEqual(1e-4);
    });
  }
});

describe('depthwise gradients on wasm match cpu', () => {
  const cases = [
    { b: 2, h: 9, w: 10, c: 4, m: 1, k: 3, s: 1, d: 1, pad: 'same' as Pad },
    { b: 2, h: 9, w: 10, c: 3, m: 2, k: 3, s: 2, d: 1, pad: 'same' as Pad },
    { b: 2, h: 11, w: 9, c: 5, m: 1, k: 5, s: 2, d: 1, pad: 'valid' as Pad },
  ];
  for (const c of cases) {
    it(`b${c.b} ${c.h}x${c.w} c${c.c}x${c.m} k${c.k} s${c.s} d${c.d} ${c.pad}`, async () => {
      const x = [c.b, c.h, c.w, c.c];
      const f = [c.k, c.k, c.c, c.m];
      const [wasm, cpu] = await onBoth([x, f], (xt, ft) => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d))),
        );
        return g([xt!, ft!]);
      }).then((r) => [r.map((p) => p[0]), r.map((p) => p[1])]);
      for (let k = 0; k < 2; k++) expect(relativeError(wasm![k]!, cpu![k]!)).toBeLessThanOrEqual(1e-4);
    });
  }

  // tf.grad refuses dilated depthwise convs and the cpu gradient kernels ignore dilation, so the truth is
  // the (dilation-aware) forward conv: it is linear, so dW[k] = <dy, conv(x, e_k)> and <dx, x'> =
  // <dy, conv(x', w)> for any x'.
  it('dilation 2 kernels match the forward-conv adjoint (b2 10x10 c3x2 k3 same)', async () => {
    const xs: [number, number, number, number] = [2, 10, 10, 3];
    const fs: [number, number, number, number] = [3, 3, 3, 2];
    const attrs = { strides: [1, 1], dilations: [2, 2], pad: 'same' };
    const x = tf.tensor4d(randomValues(600, 5), xs);
    const w = tf.tensor4d(randomValues(54, 6), fs);
    const dy = tf.tensor4d(randomValues(1200, 7), [2, 10, 10, 6]);
    const conv = (a: tf.Tensor4D, f: tf.Tensor4D) => tf.depthwiseConv2d(a, f, 1, 'same', 'NHWC', 2);
    const dW = (
      tf
        .engine()
        .runKernel(
          'DepthwiseConv2dNativeBackpropFilter',
          { x, dy },
          { ...attrs, filterShape: fs },
        ) as tf.Tensor
    ).dataSync();
    const dX = tf
      .engine()
      .runKernel(
        'DepthwiseConv2dNativeBackpropInput',
        { dy, filter: w },
        { ...attrs, inputShape: xs },
      ) as tf.Tensor;
    const expectedDW = new Float32Array(54);
    for (let k = 0; k < 54; k++) {
      const unit = new Float32Array(54);
      unit[k] = 1;
      const basis = tf.tensor4d(unit, fs);
      expectedDW[k] = tf.sum(tf.mul(dy, conv(x, basis))).dataSync()[0]!;
    }
    expect(relativeError(dW as Float32Array, expectedDW)).toBeLessThanOrEqual(1e-4);
    for (const seed of [11, 12, 13]) {
      const probe = tf.tensor4d(randomValues(600, seed), xs);
      const lhs = tf.sum(tf.mul(dX, probe)).dataSync()[0]!;
      const rhs = tf.sum(tf.mul(dy, conv(probe, w))).dataSync()[0]!;
      expect(Math.abs(lhs - rhs) / Math.abs(rhs)).toBeLessThanOrEqual(1e-4);
    }
  });
});

describe('fast memory kernels on wasm (Tile, DepthToSpace, Concat, SplitV) equal cpu exactly', () => {
  const cases: Array<[string, number[][], (...t: tf.Tensor[]) => tf.Tensor | tf.Tensor[]]> = [
    ['tile [1,1,1,5] → [3,4,6,5]', [[1, 1, 1, 5]], (v) => tf.tile(v!, [3, 4, 6, 1])],
    ['tile [1,7] → [300,7]', [[1, 7]], (v) => tf.tile(v!, [300, 1])],
    ['tile general (stock path) [2,3] → [4,9]', [[2, 3]], (v) => tf.tile(v!, [2, 3])],
    ['depthToSpace 2 [2,3,4,12]', [[2, 3, 4, 12]], (v) => tf.depthToSpace(v as tf.Tensor4D, 2)],
    ['depthToSpace 3 [1,2,2,18]', [[1, 2, 2, 18]], (v) => tf.depthToSpace(v as tf.Tensor4D, 3)],
    [
      'concat last axis',
      [
        [2, 5, 3, 4],
        [2, 5, 3, 60],
        [2, 5, 3, 1],
      ],
      (a, b, c) => tf.concat([a!, b!, c!], -1),
    ],
    [
      'concat axis 1 (stock path)',
      [
        [2, 5, 3],
        [2, 2, 3],
      ],
      (a, b) => tf.concat([a!, b!], 1),
    ],
    ['split last axis sizes', [[3, 4, 70]], (v) => tf.split(v!, [10, 50, -1], 2)],
    ['split last axis count', [[3, 4, 8]], (v) => tf.split(v!, 4, -1)],
    ['reverse a filter over its spatial axes [3,3,4,5]', [[3, 3, 4, 5]], (v) => tf.reverse(v!, [0, 1])],
    ['reverse axes 0 and 2 of [2,3,4,9]', [[2, 3, 4, 9]], (v) => tf.reverse(v!, [2, 0])],
    ['reverse the last axis (stock path) [3,7]', [[3, 7]], (v) => tf.reverse(v!, -1)],
  ];
  for (const [name, shapes, fn] of cases) {
    it(name, async () => {
      for (const [wasm, cpu] of await onBoth(shapes, fn)) expect(Array.from(wasm)).toEqual(Array.from(cpu));
    });
  }
});

describe('Sum and Mean over all but the channel axis on wasm match cpu', () => {
  const cases: Array<[string, number[], (v: tf.Tensor) => tf.Tensor]> = [
    ['sum [4,9,7,5] over 0,1,2', [4, 9, 7, 5], (v) => tf.sum(v, [0, 1, 2])],
    ['sum keepDims over -4,-3,-2', [2, 6, 5, 3], (v) => tf.sum(v, [-4, -3, -2], true)],
    ['mean [4,9,7,5] over 0,1,2', [4, 9, 7, 5], (v) => tf.mean(v, [2, 0, 1])],
    ['mean keepDims of a matrix over rows', [300, 7], (v) => tf.mean(v, 0, true)],
    ['moments (batch norm) [3,8,8,16]', [3, 8, 8, 16], (v) => tf.moments(v, [0, 1, 2]).variance],
    ['sum over axis 1 (stock path)', [4, 9, 5], (v) => tf.sum(v, 1)],
    ['mean of everything (stock path)', [4, 9, 5], (v) => tf.mean(v)],
  ];
  for (const [name, shape, fn] of cases) {
    it(name, async () => {
      const [[wasm, cpu]] = await onBoth([shape], (v) => fn(v!));
      expect(wasm!.length).toBe(cpu!.length);
      expect(relativeError(wasm!, cpu!)).toBeLessThan(1e-5);
    });
  }

  it('the fast path runs (a matrix product, not the stock transpose-and-reduce)', async () => {
    const x = tf.ones([2, 4, 4, 3]);
    const info = await tf.profile(() => tf.sum(x, [0, 1, 2]));
    x.dispose();
    expect(info.kernelNames).toContain('BatchMatMul');
    expect(info.kernelNames).not.toContain('Transpose');
  });
});
