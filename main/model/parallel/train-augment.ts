/**
 * Augmentation applied inside a training worker: the loop draws the parameters in its thread (so the
 * random stream, and with it resume, stays exactly as without workers) and each worker warps its own share
 * of the batch — the costly part (~150 ms per 256² image) — in parallel and off the caller's thread.
 */
import { augmentSample, type AugmentParams } from '../augment';

/**
 * Per image of packed batches x [n, H, W, cx] and y [n, H, W, cy], augmentSample with params[i] (image
 * fill 0, as trainingBatches applies it). Returns new arrays.
 */
export function augmentPacked(
  x: Float32Array,
  xShape: readonly number[],
  y: Float32Array,
  yShape: readonly number[],
  params: readonly AugmentParams[],
): { x: Float32Array; y: Float32Array } {
  const [n, height, width, cx] = xShape as [number, number, number, number];
  const cy = yShape[3]!;
  if (params.length !== n || yShape[0] !== n || yShape[1] !== height || yShape[2] !== width) {
    throw new Error(`augmentPacked: ${params.length} parameter sets for x ${xShape} and y ${yShape}`);
  }
  const outX = new Float32Array(x.length);
  const outY = new Float32Array(y.length);
  const perX = height * width * cx;
  const perY = height * width * cy;
  params.forEach((p, i) => {
    const image = { width, height, channels: cx, data: x.subarray(i * perX, (i + 1) * perX) };
    const masks = { width, height, channels: cy, data: y.subarray(i * perY, (i + 1) * perY) };
    const out = augmentSample(image, masks, p, 0);
    outX.set(out.image.data, i * perX);
    outY.set(out.masks.data, i * perY);
  });
  return { x: outX, y: outY };
}
