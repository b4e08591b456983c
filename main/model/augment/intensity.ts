/**
 * Intensity augmentation, image only (masks never change): gamma, contrast, a smooth multiplicative
 * bias field (MRI coil shading) and Gaussian noise. All channels of a 2.5D input get the SAME change,
 * because they are neighbouring slices of one acquisition and share its shading and contrast.
 */
import { createRng } from './random';
import { gaussianBlur } from './geometry';
import type { Planes } from './image';

export interface IntensityParams {
  /** Exponent applied to intensities rescaled to [0, 1]; 1 = unchanged. */
  gamma: number;
  /** Multiplies the deviation from the mean; 1 = unchanged. */
  contrast: number;
  /** Peak relative amplitude of the smooth bias field (0.2 → ×0.8 … ×1.2); 0 = none. */
  biasStrength: number;
  /** Noise standard deviation as a fraction of the image's standard deviation; 0 = none. */
  noiseStd: number;
  /** Seed for the bias field and the noise. */
  seed: number;
}

export const IDENTITY_INTENSITY: Omit<IntensityParams, 'seed'> = {
  gamma: 1,
  contrast: 1,
  biasStrength: 0,
  noiseStd: 0,
};

export function isIdentityIntensity(p: IntensityParams): boolean {
  return p.gamma === 1 && p.contrast === 1 && p.biasStrength === 0 && p.noiseStd === 0;
}

/** Returns a new image; the input is not modified. */
export function applyIntensity(img: Planes, p: IntensityParams): Planes {
  const data = new Float32Array(img.data);
  const out: Planes = { ...img, data };
  if (isIdentityIntensity(p)) return out;
  const rng = createRng(p.seed);
  const { min, max, mean, std } = stats(data);
  const range = max - min;

  if (p.gamma !== 1 && range > 0) {
    for (let i = 0; i < data.length; i++) data[i] = min + range * Math.pow((data[i]! - min) / range, p.gamma);
  }
  if (p.contrast !== 1) {
    for (let i = 0; i < data.length; i++) data[i] = mean + (data[i]! - mean) * p.contrast;
  }
  if (p.biasStrength !== 0) {
    const field = biasField(img.width, img.height, p.biasStrength, rng.seed());
    const c = img.channels;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * field[Math.floor(i / c)]!;
  }
  if (p.noiseStd !== 0) {
    const sd = p.noiseStd * (std > 0 ? std : 1);
    for (let i = 0; i < data.length; i++) data[i] = data[i]! + sd * rng.normal();
  }
  return out;
}

/** A very smooth field around 1 (sigma a quarter of the image), peak deviation `strength`. */
export function biasField(width: number, height: number, strength: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const f = new Float32Array(width * height);
  for (let i = 0; i < f.length; i++) f[i] = rng.uniform(-1, 1);
  gaussianBlur(f, width, height, Math.max(width, height) / 4);
  let peak = 0;
  for (const v of f) peak = Math.max(peak, Math.abs(v));
  const k = peak > 0 ? strength / peak : 0;
  for (let i = 0; i < f.length; i++) f[i] = 1 + f[i]! * k;
  return f;
}

function stats(data: Float32Array): { min: number; max: number; mean: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = data.length ? sum / data.length : 0;
  let sq = 0;
  for (const v of data) sq += (v - mean) * (v - mean);
  return { min, max, mean, std: data.length ? Math.sqrt(sq / data.length) : 0 };
}
