/**
 * Shape-based interpolation (Raya & Udupa 1990): the mask on a slice between two outlined slices is where
 * the linearly blended signed distance of the two outlines is inside. Uses main/metrics' exact EDT.
 */
import { squaredDistanceToMask } from '../../main/metrics/edt';
import type { MaskBuffer } from './mask-edit';

/** Signed distance, negative inside: distance to the nearest outside pixel inside, minus to the nearest inside pixel. */
export function signedDistance(mask: MaskBuffer): Float64Array {
  const dims = { depth: 1, height: mask.height, width: mask.width };
  const toInside = squaredDistanceToMask(mask.data, dims);
  const outside = new Uint8Array(mask.data.length);
  for (let i = 0; i < outside.length; i++) outside[i] = mask.data[i] ? 0 : 1;
  const toOutside = squaredDistanceToMask(outside, dims);
  const out = new Float64Array(mask.data.length);
  const far = mask.width + mask.height;
  for (let i = 0; i < out.length; i++) {
    // An empty mask (or a full one) has infinite distances; clamp so blends stay finite and sensible.
    const a = Math.min(Math.sqrt(toInside[i]!), far);
    const b = Math.min(Math.sqrt(toOutside[i]!), far);
    out[i] = mask.data[i] ? -b : a;
  }
  return out;
}

/**
 * Masks for the `count` slices strictly between `a` and `b` (in order from a to b). Both must be the same size.
 */
export function interpolateMasks(a: MaskBuffer, b: MaskBuffer, count: number): Uint8Array[] {
  if (a.width !== b.width || a.height !== b.height) throw new RangeError('masks differ in size');
  const da = signedDistance(a);
  const db = signedDistance(b);
  const out: Uint8Array[] = [];
  for (let k = 1; k <= count; k++) {
    const t = k / (count + 1);
    const m = new Uint8Array(da.length);
    for (let i = 0; i < m.length; i++) m[i] = (1 - t) * da[i]! + t * db[i]! < 0 ? 1 : 0;
    out.push(m);
  }
  return out;
}
