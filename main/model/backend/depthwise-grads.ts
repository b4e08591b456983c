/**
 * Depthwise-conv gradients for the wasm backend, which has neither. Depthwise layers are a few percent of
 * an EfficientNet's FLOPs, so these are straightforward loops over the wasm heap (no copies, inner loop
 * over contiguous channels) rather than matmul rewrites. dilation and any stride/padding are supported.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { allocate, heapF32, wasmInternals } from './wasm-heap';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type DepthwiseAttrs = tf.DepthwiseConv2dNativeBackpropFilterAttrs;

function depthwiseInfo(
  xShape: number[],
  filterShape: number[],
  attrs: DepthwiseAttrs,
): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
}

/** Calls fn(xBase, dyBase, filterBase) for every (output pixel, tap) pair that reads inside x. */
function forEachPair(c: backend_util.Conv2DInfo, fn: (xi: number, dyi: number, fi: number) => void): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = c;
  const m = outChannels / inChannels;
  for (let b = 0; b < batchSize; b++) {
    for (let y = 0; y < outHeight; y++) {
      for (let i = 0; i < c.filterHeight; i++) {
        const r = y * c.strideHeight + i * c.dilationHeight - c.padInfo.top;
        if (r < 0 || r >= inHeight) continue;
        for (let x = 0; x < outWidth; x++) {
          const dyi = ((b * outHeight + y) * outWidth + x) * outChannels;
          for (let j = 0; j < c.filterWidth; j++) {
            const col = x * c.strideWidth + j * c.dilationWidth - c.padInfo.left;
            if (col < 0 || col >= inWidth) continue;
            fn(
              ((b * inHeight + r) * inWidth + col) * inChannels,
              dyi,
              (i * c.filterWidth + j) * inChannels * m,
            );
          }
        }
      }
    }
  }
}

export function depthwiseBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const be = wasmInternals(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as DepthwiseAttrs;
  const c = depthwiseInfo(x.shape, attrs.filterShape, attrs);
  const ch = c.inChannels;
  const m = c.outChannels / ch;
  const out = allocate(be, attrs.filterShape);
  const acc = new Float64Array(out.size);
  const xs = heapF32(be, x);
  const dys = heapF32(be, dy);
  forEachPair(c, (xi, dyi, fi) => {
    if (m === 1) {
      for (let k = 0; k < ch; k++) acc[fi + k]! += xs[xi + k]! * dys[dyi + k]!;
    } else {
      for (let k = 0; k < ch; k++) {
        const xv = xs[xi + k]!;
        for (let q = 0; q < m; q++) acc[fi + k * m + q]! += xv * dys[dyi + k * m + q]!;
      }
    }
  });
  heapF32(be, out).set(acc);
  return out;
}

export function depthwiseBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const be = wasmInternals(args.backend);
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const c = depthwiseInfo(attrs.inputShape, filter.shape, attrs as unknown as DepthwiseAttrs);
  const ch = c.inChannels;
  const m = c.outChannels / ch;
  const out = allocate(be, attrs.inputShape);
  const acc = new Float32Array(out.size);
  const fs = heapF32(be, filter);
  const dys = heapF32(be, dy);
  forEachPair(c, (xi, dyi, fi) => {
    if (m === 1) {
      for (let k = 0; k < ch; k++) acc[xi + k]! += fs[fi + k]! * dys[dyi + k]!;
    } else {
      for (let k = 0; k < ch; k++) {
        let sum = 0;
        for (let q = 0; q < m; q++) sum += fs[fi + k * m + q]! * dys[dyi + k * m + q]!;
        acc[xi + k]! += sum;
      }
    }
  });
  heapF32(be, out).set(acc);
  return out;
}
