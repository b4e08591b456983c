/**
 * Sum and Mean over every axis but the last: what batch normalisation computes per channel in every training
 * step (its batch moments forward, its gradient backward). The stock wasm kernels transpose the whole
 * activation first and then reduce rows (3.5 ms for a 4×80×80×32 activation); here it is one XNNPACK matrix
 * product, the activation seen as [pixels, channels], transposed, times a column of ones (or of 1/n): 1.1 ms,
 * 2–3× faster on the shapes of an EfficientNet-U-Net step. Every other reduction goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import type { StockKernel } from './wasm-fast-copies';

/** True when `axis` names exactly the axes 0 … rank−2. */
function allButLast(axis: number | number[], shape: number[]): boolean {
  const axes = new Set(util.parseAxisParam(axis, shape));
  return axes.size === shape.length - 1 && !axes.has(shape.length - 1);
}

export function makeChannelReductionWasm(kind: 'sum' | 'mean'): (stock: StockKernel) => StockKernel {
  return (stock) => (args) => {
    const x = args.inputs.x as tf.Tensor;
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    if (x.dtype !== 'float32' || rank < 2 || x.size === 0 || !allButLast(axis, x.shape)) return stock(args);
    const channels = x.shape[rank - 1]!;
    const n = x.size / channels;
    return tf.tidy(() => {
      // xᵀ · w, not w · x: XNNPACK packs its second operand on every call, and packing a whole activation
      // costs more than the stock reduction; packing a column of n weights costs nothing.
      const weights = tf.fill([n, 1], kind === 'sum' ? 1 : 1 / n);
      const column = tf.matMul(tf.reshape(x, [n, channels]), weights, true, false);
      return tf.reshape(column, keepDims ? [...new Array<number>(rank - 1).fill(1), channels] : [channels]);
    });
  };
}
