/**
 * Geometric augmentation: one affine matrix (scale, rotation, shift about the image centre) plus an
 * optional smooth elastic displacement, turned into ONE sampling map that is applied to the image
 * (bilinear) and to the masks (bilinear then threshold at 0.5, so they stay binary and their edges
 * follow the image's sub-pixel motion instead of the blocky steps nearest-neighbour gives).
 *
 * Conventions: x to the right, y down, pixel centres at integer coordinates, centre of rotation at
 * ((w-1)/2, (h-1)/2). A positive rotation turns the picture clockwise as shown on screen: the point
 * 5 px right of the centre moves to 5 px below it under +90°.
 */
import { createRng } from './random';
import type { Planes } from './image';

export interface AffineParams {
  /** Zoom factor: 1.2 makes the anatomy 20 % larger. */
  scale: number;
  rotationDeg: number;
  /** Shift in pixels of the output grid. */
  shiftX: number;
  shiftY: number;
}

export interface ElasticParams {
  /** Peak displacement scale in pixels after smoothing. */
  alpha: number;
  /** Gaussian smoothing of the random field in pixels: larger = smoother, more organ-like warps. */
  sigma: number;
  /** Seed of the random displacement field. */
  seed: number;
}

export const IDENTITY_AFFINE: AffineParams = { scale: 1, rotationDeg: 0, shiftX: 0, shiftY: 0 };

export function isIdentityAffine(a: AffineParams): boolean {
  return a.scale === 1 && a.rotationDeg === 0 && a.shiftX === 0 && a.shiftY === 0;
}

/**
 * For every output pixel, the (x, y) in the input to sample from: the inverse of the forward motion
 * out = c + s·R·(in − c) + shift, evaluated at out + elastic displacement.
 */
export function samplingMap(
  width: number,
  height: number,
  affine: AffineParams,
  elastic: ElasticParams | null,
): { sx: Float32Array; sy: Float32Array } {
  const n = width * height;
  const sx = new Float32Array(n);
  const sy = new Float32Array(n);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const theta = (affine.rotationDeg * Math.PI) / 180;
  // Inverse of s·R(θ) is R(−θ)/s.
  const cos = Math.cos(theta) / affine.scale;
  const sin = Math.sin(theta) / affine.scale;
  const field = elastic && elastic.alpha !== 0 ? displacementField(width, height, elastic) : null;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let ox = x - cx - affine.shiftX;
      let oy = y - cy - affine.shiftY;
      if (field) {
        ox += field.dx[i]!;
        oy += field.dy[i]!;
      }
      sx[i] = cx + cos * ox + sin * oy;
      sy[i] = cy - sin * ox + cos * oy;
    }
  }
  return { sx, sy };
}

/** Smoothed uniform noise in [−1, 1], scaled so its largest magnitude is `alpha` pixels. */
export function displacementField(
  width: number,
  height: number,
  p: ElasticParams,
): { dx: Float32Array; dy: Float32Array } {
  const rng = createRng(p.seed);
  const make = (): Float32Array => {
    const f = new Float32Array(width * height);
    for (let i = 0; i < f.length; i++) f[i] = rng.uniform(-1, 1);
    gaussianBlur(f, width, height, p.sigma);
    let peak = 0;
    for (const v of f) peak = Math.max(peak, Math.abs(v));
    const k = peak > 0 ? p.alpha / peak : 0;
    for (let i = 0; i < f.length; i++) f[i] = f[i]! * k;
    return f;
  };
  const dx = make();
  const dy = make();
  return { dx, dy };
}

/** In-place separable Gaussian blur with edge clamping. */
export function gaussianBlur(f: Float32Array, width: number, height: number, sigma: number): void {
  if (sigma <= 0) return;
  const r = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let k = -r; k <= r; k++) sum += kernel[k + r] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] = kernel[k]! / sum;
  const line = new Float32Array(Math.max(width, height));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) line[x] = f[y * width + x]!;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += kernel[k + r]! * line[Math.min(width - 1, Math.max(0, x + k))]!;
      f[y * width + x] = acc;
    }
  }
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) line[y] = f[y * width + x]!;
    for (let y = 0; y < height; y++) {
      let acc = 0;
      for (let k = -r; k <= r; k++) acc += kernel[k + r]! * line[Math.min(height - 1, Math.max(0, y + k))]!;
      f[y * width + x] = acc;
    }
  }
}

/**
 * Bilinear resample of every channel at the sampling map; samples outside the input read `fill`.
 * With `threshold` set, each result becomes 1 when ≥ threshold else 0 (for masks).
 */
export function resample(
  src: Planes,
  map: { sx: Float32Array; sy: Float32Array },
  fill: number,
  threshold?: number,
): Planes {
  const { width: w, height: h, channels: c, data } = src;
  const out = new Float32Array(w * h * c);
  const at = (x: number, y: number, ch: number): number =>
    x < 0 || y < 0 || x >= w || y >= h ? fill : data[(y * w + x) * c + ch]!;
  for (let i = 0; i < w * h; i++) {
    const x = map.sx[i]!;
    const y = map.sy[i]!;
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    for (let ch = 0; ch < c; ch++) {
      const top = at(x0, y0, ch) * (1 - fx) + at(x0 + 1, y0, ch) * fx;
      const bottom = at(x0, y0 + 1, ch) * (1 - fx) + at(x0 + 1, y0 + 1, ch) * fx;
      const v = top * (1 - fy) + bottom * fy;
      out[i * c + ch] = threshold === undefined ? v : v >= threshold ? 1 : 0;
    }
  }
  return { width: w, height: h, channels: c, data: out };
}
