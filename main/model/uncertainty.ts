/**
 * One uncertainty number per slice, from the model's own organ probability maps (no reference needed):
 * 1 − smoothed soft Dice between the maps and their own 0.5-threshold masks, pooled over the organs,
 *
 *   u = 1 − (Σ_o 2·Σ p·[p>0.5] + s) / (Σ_o (Σ p + #[p>0.5]) + s)  =  Σ_o Σ min(p, 1−p) / (Σ_o (Σ p + #[p>0.5]) + s)
 *
 * i.e. the probability mass on the wrong side of 0.5, relative to the size of what was predicted. Crisp maps
 * (every p near 0 or 1) give ≈ 0; a map whose organ is all 0.3–0.7 gives a high u. Pooling (rather than
 * averaging per organ) lets a large organ weigh more than a few fuzzy pixels of another.
 *
 * `s` (smoothing, in pixels) is there because a trained network never outputs exact zeros: without it an
 * empty slice with a faint background tail (p ≈ 1e-4 everywhere) has Σ p > 0 and no mask, so u = 1, and
 * every empty slice would head the review list. With s a fraction of the slice area, that tail gives
 * u ≈ 0, while a real fuzzy blob still stands out. s = 0 is the plain formula; u = 0 with no mass at all.
 *
 * This is a single-model proxy. If the model becomes an ensemble (or test-time augmentation is added),
 * disagreement between members (e.g. 1 − mean pairwise Dice) is the better measure and can replace this
 * function without changing its callers.
 */
import { pixelKernels } from '../kernels/pixels';

/** The decision threshold the soft Dice compares against (not the per-organ post-processing thresholds). */
export const UNCERTAINTY_THRESHOLD = 0.5;

/** Default smoothing: this fraction of the slice's pixels (see above); 0.01 of 266² ≈ 708 pixels. */
export const UNCERTAINTY_SMOOTHING_FRACTION = 0.01;

export interface UncertaintyOptions {
  threshold?: number;
  /** Added to the denominator, in pixels; default UNCERTAINTY_SMOOTHING_FRACTION × pixels of one map. */
  smoothing?: number;
}

/** One map's part of the slice's sums; a slice pools its organs' terms (`combineUncertainty`). */
export interface UncertaintyTerms {
  /** Σ p·[p≤t] + Σ (1−p)·[p>t]: the mass on the wrong side of t */
  wrongSide: number;
  /** Σ p */
  mass: number;
  /** #[p>t] */
  count: number;
}

/**
 * The terms of one probability map, or of the rectangle `part` of it (a map `part.width` wide), summed in
 * pixel order by the WebAssembly kernels (main/kernels/pixels.c); a float32 map already in their memory is
 * read in place.
 */
export function uncertaintyTerms(
  map: ArrayLike<number>,
  threshold = UNCERTAINTY_THRESHOLD,
  part?: { width: number; x0: number; x1: number; y0: number; y1: number },
): UncertaintyTerms {
  const k = pixelKernels();
  const { width, ...window } = part ?? { width: map.length, x0: 0, x1: map.length, y0: 0, y1: 1 };
  const resident = map instanceof Float32Array ? k.addressOf(map) : undefined;
  if (resident !== undefined) return k.uncertaintyTerms('f32', resident, width, window, threshold);
  const data = map instanceof Float32Array || map instanceof Float64Array ? map : Float64Array.from(map);
  const [at] = k.layout([data.byteLength]);
  k.copyIn(data, at!);
  return k.uncertaintyTerms(data instanceof Float32Array ? 'f32' : 'f64', at!, width, window, threshold);
}

/**
 * The terms of a map known to hold no value above the threshold, from its mass alone: every p is on the
 * "absent" side, so the wrong-side mass is the whole mass (how `segment` skips resampling empty maps).
 */
export function belowThresholdTerms(mass: number): UncertaintyTerms {
  return { wrongSide: mass, mass, count: 0 };
}

/** The terms of a whole map from those of a part and the whole map's mass, all of it outside below t. */
export function withMassOutside(part: UncertaintyTerms, mass: number): UncertaintyTerms {
  const outside = Math.max(0, mass - part.mass);
  return { wrongSide: part.wrongSide + outside, mass: part.mass + outside, count: part.count };
}

/** Uncertainty in [0, 1] from the terms of a slice's maps of `pixels` values each. */
export function combineUncertainty(
  terms: readonly UncertaintyTerms[],
  pixels: number,
  smoothing = UNCERTAINTY_SMOOTHING_FRACTION * pixels,
): number {
  let [wrongSide, mass, count] = [0, 0, 0];
  for (const t of terms) [wrongSide, mass, count] = [wrongSide + t.wrongSide, mass + t.mass, count + t.count];
  if (mass === 0) return 0;
  return Math.min(1, wrongSide / (mass + count + smoothing));
}

/**
 * Uncertainty in [0, 1] of one slice from its organ probability maps (one per organ, same length, values in
 * [0, 1]); 0 when no map has any probability mass.
 */
export function sliceUncertainty(maps: readonly ArrayLike<number>[], opts: UncertaintyOptions = {}): number {
  const threshold = opts.threshold ?? UNCERTAINTY_THRESHOLD;
  const pixels = maps[0]?.length ?? 0;
  return combineUncertainty(
    maps.map((m) => uncertaintyTerms(m, threshold)),
    pixels,
    opts.smoothing ?? UNCERTAINTY_SMOOTHING_FRACTION * pixels,
  );
}
