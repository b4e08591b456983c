/**
 * Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled
 * Functions", 2012): separable, one 1-D pass per axis, O(voxels) overall. Pure: typed arrays only.
 */

/** Volume shape, slowest axis first: `depth` slices of `height` rows of `width` voxels (row-major). */
export interface Dims3 {
  depth: number;
  height: number;
  width: number;
}

/**
 * For every voxel, the squared distance (voxel units, isotropic) to the nearest voxel where `mask` is non-zero;
 * `Infinity` everywhere when the mask is empty.
 */
export function squaredDistanceToMask(mask: Uint8Array, dims: Dims3): Float64Array {
  const { depth, height, width } = dims;
  const n = depth * height * width;
  if (mask.length !== n) throw new RangeError(`mask has ${mask.length} voxels, dims say ${n}`);
  const out = new Float64Array(n);
  distancesAlongRows(mask, out, width, n);
  const longest = Math.max(depth, height, width);
  const scratch = new LineScratch(longest);
  // Columns within each slice, then lines across slices.
  for (let z = 0; z < depth; z++) {
    const base = z * height * width;
    for (let x = 0; x < width; x++) lowerEnvelopeInPlace(out, base + x, width, height, scratch);
  }
  if (depth > 1) {
    const plane = height * width;
    for (let i = 0; i < plane; i++) lowerEnvelopeInPlace(out, i, plane, depth, scratch);
  }
  return out;
}

/** First pass: on a binary line the distance is just the gap to the nearest set voxel, found by two sweeps. */
function distancesAlongRows(mask: Uint8Array, out: Float64Array, width: number, n: number): void {
  for (let start = 0; start < n; start += width) {
    const end = start + width;
    let last = -1;
    for (let i = start; i < end; i++) {
      if (mask[i] !== 0) last = i;
      out[i] = last < 0 ? Infinity : i - last;
    }
    last = -1;
    for (let i = end - 1; i >= start; i--) {
      if (mask[i] !== 0) last = i;
      if (last >= 0 && last - i < out[i]!) out[i] = last - i;
    }
    for (let i = start; i < end; i++) out[i] = out[i]! * out[i]!;
  }
}

class LineScratch {
  readonly f: Float64Array;
  readonly v: Int32Array;
  readonly z: Float64Array;
  constructor(length: number) {
    this.f = new Float64Array(length);
    this.v = new Int32Array(length);
    this.z = new Float64Array(length + 1);
  }
}

/**
 * One 1-D pass: replace the `count` samples at `offset + i * stride` with the lower envelope of the parabolas
 * (q - p)² + f(p). Infinite samples are left out of the envelope (they can never be nearest), which keeps the
 * intersection arithmetic exact and makes lines with no foreground cost one scan.
 */
function lowerEnvelopeInPlace(
  data: Float64Array,
  offset: number,
  stride: number,
  count: number,
  scratch: LineScratch,
): void {
  const { f, v, z } = scratch;
  let k = -1;
  for (let q = 0; q < count; q++) {
    const fq = data[offset + q * stride]!;
    f[q] = fq;
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    const fqq = fq + q * q;
    let s = 0;
    // z[0] is -Infinity, so this stops at k = 0 at the latest.
    for (;;) {
      const p = v[k]!;
      s = (fqq - (f[p]! + p * p)) / (2 * (q - p));
      if (s > z[k]!) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) return; // no foreground on this line: every sample stays Infinity
  let j = 0;
  for (let q = 0; q < count; q++) {
    while (z[j + 1]! < q) j++;
    const p = v[j]!;
    data[offset + q * stride] = (q - p) * (q - p) + f[p]!;
  }
}
