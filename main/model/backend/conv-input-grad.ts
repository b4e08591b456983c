/**
 * Conv2DBackpropInput for the wasm backend. The stock wasm kernel is a scalar loop (~2 GFLOP/s here);
 * it also runs every Conv2DTranspose *forward*. Two exact rewrites onto fast XNNPACK ops cover the
 * U-Net / EfficientNet cases; anything else goes to the stock kernel:
 *  - stride 1: dx = conv2d(dy, filter rotated 180° with in/out channels swapped, explicit "full" padding);
 *  - kernel == stride, no padding (2×2/2 up-sampling): the taps do not overlap, so
 *    dx = depthToSpace(dy · Wᵀ) — one matmul.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

export function makeConv2dBackpropInputWasm(
  fallback: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[],
): (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[] {
  return (args) => {
    const dy = args.inputs.dy as tf.Tensor4D;
    const filter = args.inputs.filter as tf.Tensor4D;
    const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    if (attrs.dataFormat === 'NCHW') return fallback(args);
    const conv = backend_util.computeConv2DInfo(
      attrs.inputShape as [number, number, number, number],
      filter.shape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
    );
    return strideOne(dy, filter, conv) ?? nonOverlapping(dy, filter, conv) ?? fallback(args);
  };
}

function strideOne(dy: tf.Tensor4D, filter: tf.Tensor4D, c: backend_util.Conv2DInfo): tf.Tensor | null {
  if (c.strideHeight !== 1 || c.strideWidth !== 1) return null;
  const top = c.filterHeight - 1 - c.padInfo.top;
  const left = c.filterWidth - 1 - c.padInfo.left;
  const bottom = c.inHeight + c.filterHeight - 1 - c.outHeight - top;
  const right = c.inWidth + c.filterWidth - 1 - c.outWidth - left;
  if (Math.min(top, left, bottom, right) < 0) return null;
  return tf.tidy(() => {
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(dy, rotated, 1, [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ]);
  });
}

function nonOverlapping(dy: tf.Tensor4D, filter: tf.Tensor4D, c: backend_util.Conv2DInfo): tf.Tensor | null {
  const s = c.strideHeight;
  const exact =
    c.strideWidth === s &&
    c.filterHeight === s &&
    c.filterWidth === s &&
    c.padInfo.top === 0 &&
    c.padInfo.left === 0 &&
    c.inHeight === c.outHeight * s &&
    c.inWidth === c.outWidth * s;
  if (!exact) return null;
  return tf.tidy(() => {
    const [b, h, w, co] = dy.shape;
    const ci = c.inChannels;
    // [s, s, Ci, Co] → [Co, s·s·Ci]: column (a·s + q)·Ci + ci, the depthToSpace channel order.
    const wT = tf.reshape(tf.transpose(filter, [3, 0, 1, 2]), [co, s * s * ci]);
    const y = tf.matMul(tf.reshape(dy, [b * h * w, co]), wT);
    return tf.depthToSpace(tf.reshape(y, [b, h, w, s * s * ci]) as tf.Tensor4D, s);
  });
}
