/**
 * Float image fields for synthesis: smooth random noise (continuous in 3D so neighbouring slices agree),
 * separable Gaussian blur, bilinear resampling and warping by a displacement field.
 * All images are row-major Float32Array of width*height.
 */
import type { Rng } from '../model/augment/random';
import { gaussianBlur as gaussianBlurInPlace } from '../model/augment/geometry';

/** A smooth random function of (x, y, z) in [-1, 1]-ish, from a lattice of random values. */
export type Noise3 = (x: number, y: number, z: number) => number;

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

/** A random value in [-1, 1) for an integer lattice point; a hash, so no table is stored. */
function latticeValue(seed: number, i: number, j: number, k: number): number {
  let h = Math.imul(i, 0x27d4eb2d) ^ Math.imul(j, 0x165667b1) ^ Math.imul(k, 0x61c88647) ^ seed;
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  h ^= h >>> 15;
  return (h >>> 0) / 2147483648 - 1;
}

/**
 * Value noise on a lattice with spacing `cell` (in the caller's units, e.g. mm): random values at the
 * lattice points, smoothstep-interpolated in between. Continuous in all three axes, so a shape
 * thresholded from it changes gradually from slice to slice.
 */
export function createValueNoise3(rng: Rng, cell: number): Noise3 {
  const seed = rng.seed() | 0;
  const inv = 1 / cell;
  return (x, y, z) => {
    const fx = x * inv;
    const fy = y * inv;
    const fz = z * inv;
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    const iz = Math.floor(fz);
    const tx = smooth(fx - ix);
    const ty = smooth(fy - iy);
    const tz = smooth(fz - iz);
    const c00 = lerp(latticeValue(seed, ix, iy, iz), latticeValue(seed, ix + 1, iy, iz), tx);
    const c10 = lerp(latticeValue(seed, ix, iy + 1, iz), latticeValue(seed, ix + 1, iy + 1, iz), tx);
    const c01 = lerp(latticeValue(seed, ix, iy, iz + 1), latticeValue(seed, ix + 1, iy, iz + 1), tx);
    const c11 = lerp(latticeValue(seed, ix, iy + 1, iz + 1), latticeValue(seed, ix + 1, iy + 1, iz + 1), tx);
    return lerp(lerp(c00, c10, ty), lerp(c01, c11, ty), tz);
  };
}

/** Sum of octaves of value noise (each half the cell, half the weight), normalised to about [-1, 1]. */
export function createFractalNoise3(rng: Rng, cell: number, octaves: number): Noise3 {
  const layers = Array.from({ length: octaves }, (_, o) => createValueNoise3(rng, cell / 2 ** o));
  const weights = layers.map((_, o) => 0.5 ** o);
  const norm = weights.reduce((a, b) => a + b, 0);
  if (octaves === 1) return layers[0]!;
  return (x, y, z) => {
    let v = 0;
    for (let o = 0; o < layers.length; o++) v += layers[o]!(x, y, z) * weights[o]!;
    return v / norm;
  };
}

/** Separable Gaussian blur with edge clamping into a new array; sigma in pixels (≤ 0 returns a copy). */
export function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const out = new Float32Array(src);
  gaussianBlurInPlace(out, width, height, sigma);
  return out;
}

/** Bilinear sample at fractional pixel (x, y) with edge clamping. */
export function sampleBilinear(
  src: Float32Array,
  width: number,
  height: number,
  x: number,
  y: number,
): number {
  const cx = Math.min(width - 1, Math.max(0, x));
  const cy = Math.min(height - 1, Math.max(0, y));
  const x0 = Math.min(width - 2, Math.floor(cx));
  const y0 = Math.min(height - 2, Math.floor(cy));
  if (x0 < 0 || y0 < 0) return src[Math.round(cy) * width + Math.round(cx)]!;
  const tx = cx - x0;
  const ty = cy - y0;
  const i = y0 * width + x0;
  const a = src[i]! + (src[i + 1]! - src[i]!) * tx;
  const b = src[i + width]! + (src[i + width + 1]! - src[i + width]!) * tx;
  return a + (b - a) * ty;
}

/** Resize with bilinear interpolation (pixel centres aligned, as image libraries do). */
export function resizeBilinear(
  src: Float32Array,
  width: number,
  height: number,
  newWidth: number,
  newHeight: number,
): Float32Array {
  const out = new Float32Array(newWidth * newHeight);
  const sx = width / newWidth;
  const sy = height / newHeight;
  for (let y = 0; y < newHeight; y++) {
    const fy = (y + 0.5) * sy - 0.5;
    for (let x = 0; x < newWidth; x++) {
      out[y * newWidth + x] = sampleBilinear(src, width, height, (x + 0.5) * sx - 0.5, fy);
    }
  }
  return out;
}

/** Resize a label/mask image by nearest neighbour (pixel centres aligned). */
export function resizeNearest(
  src: Uint8Array,
  width: number,
  height: number,
  newWidth: number,
  newHeight: number,
): Uint8Array {
  if (width === newWidth && height === newHeight) return new Uint8Array(src);
  const out = new Uint8Array(newWidth * newHeight);
  for (let y = 0; y < newHeight; y++) {
    const sy = Math.min(height - 1, Math.floor(((y + 0.5) * height) / newHeight));
    for (let x = 0; x < newWidth; x++) {
      const sx = Math.min(width - 1, Math.floor(((x + 0.5) * width) / newWidth));
      out[y * newWidth + x] = src[sy * width + sx]!;
    }
  }
  return out;
}

/**
 * A dense displacement field: the output pixel (x, y) takes its value from the input at
 * (x + dx, y + dy). Stored per pixel so the same warp can be applied to an image and its labels.
 */
export interface Displacement {
  width: number;
  height: number;
  dx: Float32Array;
  dy: Float32Array;
}

/**
 * A smooth random elastic deformation: random vectors on a coarse grid (spacing `gridPx`), blurred
 * there and upsampled bilinearly, scaled so the largest displacement is about `maxPx` pixels.
 */
export function randomElasticDisplacement(
  rng: Rng,
  width: number,
  height: number,
  maxPx: number,
  gridPx: number,
): Displacement {
  const gw = Math.max(2, Math.ceil(width / gridPx) + 1);
  const gh = Math.max(2, Math.ceil(height / gridPx) + 1);
  const coarse = (): Float32Array => {
    const g = new Float32Array(gw * gh);
    for (let i = 0; i < g.length; i++) g[i] = rng.normal();
    // smooth on the coarse grid (cheap), then interpolate up: a continuous, gently varying field
    const up = resizeBilinear(gaussianBlur(g, gw, gh, 0.8), gw, gh, width, height);
    let peak = 1e-6;
    for (const v of up) peak = Math.max(peak, Math.abs(v));
    for (let i = 0; i < up.length; i++) up[i] = (up[i]! / peak) * maxPx;
    return up;
  };
  return { width, height, dx: coarse(), dy: coarse() };
}

export function warpBilinear(src: Float32Array, d: Displacement): Float32Array {
  const { width, height } = d;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      out[i] = sampleBilinear(src, width, height, x + d.dx[i]!, y + d.dy[i]!);
    }
  }
  return out;
}

/**
 * Warp a label image by nearest neighbour: each output pixel copies the label of the input pixel
 * nearest to (x + dx, y + dy) (clamped to the image). Labels are never blended.
 */
export function warpNearest(src: Uint8Array, d: Displacement): Uint8Array {
  const { width, height } = d;
  const out = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const sx = Math.min(width - 1, Math.max(0, Math.round(x + d.dx[i]!)));
      const sy = Math.min(height - 1, Math.max(0, Math.round(y + d.dy[i]!)));
      out[i] = src[sy * width + sx]!;
    }
  }
  return out;
}
