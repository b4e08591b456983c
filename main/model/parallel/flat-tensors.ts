/**
 * Tensors ↔ one flat Float32Array, the form weights, gradients, BN statistics and optimizer state take to
 * cross a worker boundary (one transferable buffer instead of many small messages).
 */
import * as tf from '@tensorflow/tfjs-core';

export function flattenTensors(tensors: tf.Tensor[]): Float32Array {
  const out = new Float32Array(tensors.reduce((n, t) => n + t.size, 0));
  let o = 0;
  for (const t of tensors) {
    out.set(t.dataSync() as Float32Array, o);
    o += t.size;
  }
  return out;
}

/** New tensors of the given shapes, read in order from `flat` (the caller disposes them). */
export function unflattenTensors(flat: Float32Array, shapes: ReadonlyArray<readonly number[]>): tf.Tensor[] {
  let o = 0;
  return shapes.map((shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const t = tf.tensor(flat.subarray(o, o + size), [...shape]);
    o += size;
    return t;
  });
}
