/**
 * Grey-level display: window (width) and level (centre) map stored values to 0–255, as radiology viewers do.
 * MRI intensities have no absolute scale, so the presets are percentiles of the body's own values in the
 * scan's stored units (air around the patient would otherwise pull every preset toward black), and each
 * preset is nested inside the one before: "Soft tissue" is never wider than "Auto".
 */
import { minMax } from '../../main/core/arrays';

export interface WindowLevel {
  level: number;
  width: number;
}

export type WindowPreset = 'auto' | 'soft' | 'contrast' | 'full';

/** Body percentiles of each preset's window edges (full range is min…max instead). */
export const PRESET_PERCENTILES: Record<Exclude<WindowPreset, 'full'>, [low: number, high: number]> = {
  auto: [1, 99.5],
  soft: [5, 95],
  contrast: [20, 80],
};

/** What the presets need from a slice: its range and the sorted values of its body (air left out). */
export interface WindowStats {
  min: number;
  max: number;
  /** Threshold below which a pixel counts as air. */
  air: number;
  /** A sorted sample (≤ ~64k values) of the pixels above `air`. */
  body: Float64Array;
}

/**
 * MR background is dark noise: a pixel below a tenth of the way from the minimum to the bright tissue
 * level (99th percentile of the slice) is air. Sampled so a 512² slice costs a few milliseconds.
 */
export function windowStats(data: ArrayLike<number>): WindowStats {
  const step = Math.max(1, Math.floor(data.length / 65536));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += step) sample.push(data[i]!);
  sample.sort((a, b) => a - b);
  const [min, max] = minMax(data);
  const bright = sample.length ? sample[Math.min(sample.length - 1, Math.floor(0.99 * sample.length))]! : 0;
  const air = min + 0.1 * (bright - min);
  const body = Float64Array.from(sample.filter((v) => v > air));
  return { min, max, air, body: body.length ? body : Float64Array.from(sample) };
}

/** The p-th percentile (0–100) of a sorted array, nearest rank. */
export function sortedPercentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.floor((p / 100) * sorted.length)))]!;
}

export function presetWindow(preset: WindowPreset, stats: WindowStats): WindowLevel {
  const [lo, hi] =
    preset === 'full'
      ? [stats.min, stats.max]
      : PRESET_PERCENTILES[preset].map((p) => sortedPercentile(stats.body, p));
  return { level: (lo! + hi!) / 2, width: Math.max(1e-6, hi! - lo!) };
}

/** Dragging right widens the window, dragging down raises the level; `sensitivity` is value units per pixel. */
export function dragWindow(wl: WindowLevel, dx: number, dy: number, sensitivity: number): WindowLevel {
  return { level: wl.level + dy * sensitivity, width: Math.max(1, wl.width + dx * sensitivity) };
}

export function grey(value: number, wl: WindowLevel): number {
  const g = ((value - (wl.level - wl.width / 2)) / wl.width) * 255;
  return g <= 0 ? 0 : g >= 255 ? 255 : Math.round(g);
}

/** Fill RGBA pixels (length 4·n) with the windowed grey values of `data`. */
export function renderGrey(data: ArrayLike<number>, wl: WindowLevel, rgba: Uint8ClampedArray): void {
  const lo = wl.level - wl.width / 2;
  const k = 255 / wl.width;
  for (let i = 0, j = 0; i < data.length; i++, j += 4) {
    const g = (data[i]! - lo) * k;
    const v = g <= 0 ? 0 : g >= 255 ? 255 : g;
    rgba[j] = v;
    rgba[j + 1] = v;
    rgba[j + 2] = v;
    rgba[j + 3] = 255;
  }
}

const statsCache = new WeakMap<object, WindowStats>();

/** windowStats of a slice's pixel array, computed once per array (presets are re-applied on every scan). */
export function cachedWindowStats(data: ArrayLike<number> & object): WindowStats {
  let stats = statsCache.get(data);
  if (!stats) {
    stats = windowStats(data);
    statsCache.set(data, stats);
  }
  return stats;
}

/** A window typed by the user: finite numbers, the width at least 1e-6 (a zero width would divide by 0). */
export function typedWindow(width: number, level: number): WindowLevel | null {
  if (!Number.isFinite(width) || !Number.isFinite(level) || width <= 0) return null;
  return { level, width };
}

export { minMax };
