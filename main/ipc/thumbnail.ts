/** Small 8-bit previews of slices for the navigation tree: box-averaged, windowed to the 1st–99.5th percentile. */
import type { SliceImage } from '../core/types';
import { percentiles } from '../../preload/wire';

/** Box-average a slice to at most `size` pixels on its longer side (aspect kept; never enlarged). */
export function boxDownsample(
  image: SliceImage,
  size: number,
): { width: number; height: number; data: Float32Array } {
  const f = Math.max(1, Math.max(image.width, image.height) / size);
  const width = Math.max(1, Math.round(image.width / f));
  const height = Math.max(1, Math.round(image.height / f));
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const y0 = Math.floor(y * f);
    const y1 = Math.max(y0 + 1, Math.min(image.height, Math.floor((y + 1) * f)));
    for (let x = 0; x < width; x++) {
      const x0 = Math.floor(x * f);
      const x1 = Math.max(x0 + 1, Math.min(image.width, Math.floor((x + 1) * f)));
      let sum = 0;
      for (let yy = y0; yy < y1; yy++)
        for (let xx = x0; xx < x1; xx++) sum += image.data[yy * image.width + xx]!;
      out[y * width + x] = sum / ((y1 - y0) * (x1 - x0));
    }
  }
  return { width, height, data: out };
}

export function thumbnail(
  image: SliceImage,
  size: number,
): { width: number; height: number; data: Uint8Array } {
  const small = boxDownsample(image, size);
  const [low, high] = percentiles(image.data, [1, 99.5]) as [number, number];
  const span = high > low ? high - low : 1;
  const out = new Uint8Array(small.data.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.max(0, Math.min(255, Math.round(((small.data[i]! - low) / span) * 255)));
  }
  return { width: small.width, height: small.height, data: out };
}
