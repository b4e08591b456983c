/**
 * A whole scan in one small message for the viewer's coronal and sagittal reformats: each slice
 * box-averaged in-plane (./thumbnail) and the values quantised to bytes with an offset and scale, so the
 * renderer can still apply windows in the scan's own units. A 266² × 144 scan at size 256 is ~9 MB of
 * bytes instead of ~20 MB of 16-bit pixels at full size.
 */
import type { Scan } from '../core/types';
import type { VolumeWire } from '../../preload/api';
import { bytesToBase64, percentiles } from '../../preload/wire';
import { boxDownsample } from './thumbnail';

export async function scanVolume(scan: Scan, size: number): Promise<VolumeWire> {
  const slices: Float32Array[] = [];
  let width = 1;
  let height = 1;
  for (let i = 0; i < scan.slices.length; i++) {
    const small = boxDownsample(await scan.readSlice(i), size);
    // Slices of one scan share a size; a stray one is fitted into the first one's grid below.
    if (i === 0) ({ width, height } = small);
    slices.push(small.width === width && small.height === height ? small.data : refit(small, width, height));
  }
  const all = new Float32Array(width * height * slices.length);
  slices.forEach((s, z) => all.set(s, z * width * height));
  // The top 0.1 % (a few bright vessels) would otherwise squeeze the body into a handful of grey levels.
  const [low, high] = percentiles(all, [0, 99.9]) as [number, number];
  const scale = high > low ? (high - low) / 255 : 1;
  const bytes = new Uint8Array(all.length);
  for (let i = 0; i < all.length; i++) {
    bytes[i] = Math.max(0, Math.min(255, Math.round((all[i]! - low) / scale)));
  }
  return { width, height, depth: slices.length, data: bytesToBase64(bytes), offset: low, scale };
}

function refit(
  image: { width: number; height: number; data: Float32Array },
  width: number,
  height: number,
): Float32Array {
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.floor(((y + 0.5) * image.height) / height));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.floor(((x + 0.5) * image.width) / width));
      out[y * width + x] = image.data[sy * image.width + sx]!;
    }
  }
  return out;
}
