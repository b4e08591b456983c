/**
 * Training-time augmentation: draw random parameters from ranges (seeded, reproducible), then apply
 * them to one sample — geometry to image and masks alike, intensity to the image only.
 */
import { IDENTITY_AFFINE, isIdentityAffine, resample, samplingMap } from './geometry';
import type { AffineParams, ElasticParams } from './geometry';
import { applyIntensity, IDENTITY_INTENSITY } from './intensity';
import type { IntensityParams } from './intensity';
import type { Planes } from './image';
import type { Rng } from './random';

export type { Planes } from './image';
export type { AffineParams, ElasticParams } from './geometry';
export type { IntensityParams } from './intensity';
export { createRng } from './random';
export type { Rng } from './random';

export interface AugmentParams {
  affine: AffineParams;
  elastic: ElasticParams | null;
  intensity: IntensityParams;
}

/** Ranges to draw from; every range [a, b] with a = b fixes the value. Probabilities in [0, 1]. */
export interface AugmentConfig {
  scale: [number, number];
  rotationDeg: [number, number];
  /** Shift as a fraction of the image size. */
  shift: [number, number];
  elasticProbability: number;
  elasticAlpha: [number, number];
  elasticSigma: [number, number];
  gamma: [number, number];
  contrast: [number, number];
  biasStrength: [number, number];
  noiseStd: [number, number];
}

/** Moderate ranges suited to abdominal MRI: organs move and deform, coil shading varies. */
export const DEFAULT_AUGMENT: AugmentConfig = {
  scale: [0.9, 1.1],
  rotationDeg: [-15, 15],
  shift: [-0.06, 0.06],
  elasticProbability: 0.3,
  elasticAlpha: [2, 6],
  elasticSigma: [6, 10],
  gamma: [0.8, 1.25],
  contrast: [0.85, 1.15],
  biasStrength: [0, 0.2],
  noiseStd: [0, 0.05],
};

/**
 * Augmentation for a handful of real slices: wider than DEFAULT_AUGMENT in every range, since with a few
 * slices per patient the model must not learn their exact position, size, contrast or shading.
 */
export const HEAVY_AUGMENT: AugmentConfig = {
  scale: [0.8, 1.25],
  rotationDeg: [-20, 20],
  shift: [-0.1, 0.1],
  elasticProbability: 0.5,
  elasticAlpha: [2, 8],
  elasticSigma: [6, 10],
  gamma: [0.6, 1.6],
  contrast: [0.75, 1.3],
  biasStrength: [0, 0.35],
  noiseStd: [0, 0.06],
};

export function identityParams(): AugmentParams {
  return { affine: { ...IDENTITY_AFFINE }, elastic: null, intensity: { ...IDENTITY_INTENSITY, seed: 0 } };
}

export function sampleAugmentParams(
  cfg: AugmentConfig,
  rng: Rng,
  width: number,
  height: number,
): AugmentParams {
  const pick = ([a, b]: [number, number]): number => (a === b ? a : rng.uniform(a, b));
  const affine: AffineParams = {
    scale: pick(cfg.scale),
    rotationDeg: pick(cfg.rotationDeg),
    shiftX: pick(cfg.shift) * width,
    shiftY: pick(cfg.shift) * height,
  };
  const elastic: ElasticParams | null =
    rng.next() < cfg.elasticProbability
      ? { alpha: pick(cfg.elasticAlpha), sigma: pick(cfg.elasticSigma), seed: rng.seed() }
      : null;
  const intensity: IntensityParams = {
    gamma: pick(cfg.gamma),
    contrast: pick(cfg.contrast),
    biasStrength: pick(cfg.biasStrength),
    noiseStd: pick(cfg.noiseStd),
    seed: rng.seed(),
  };
  return { affine, elastic, intensity };
}

/**
 * Apply one parameter set. `imageFill` is what the image reads outside its border (the caller's
 * background value); masks read 0 there. Inputs are not modified.
 */
export function augmentSample(
  image: Planes,
  masks: Planes,
  params: AugmentParams,
  imageFill = 0,
): { image: Planes; masks: Planes } {
  if (image.width !== masks.width || image.height !== masks.height) {
    throw new Error(
      `augmentSample: image ${image.width}×${image.height} vs masks ${masks.width}×${masks.height}`,
    );
  }
  let img = image;
  let msk = masks;
  if (!isIdentityAffine(params.affine) || (params.elastic && params.elastic.alpha !== 0)) {
    const map = samplingMap(image.width, image.height, params.affine, params.elastic);
    img = resample(image, map, imageFill);
    msk = resample(masks, map, 0, 0.5);
  } else {
    msk = { ...masks, data: new Float32Array(masks.data) };
  }
  return { image: applyIntensity(img, params.intensity), masks: msk };
}
