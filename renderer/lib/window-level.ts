/**
 * Grey-level display: window (width) and level (centre) map stored values to 0–255, as radiology viewers do.
 * Presets are relative to the slice's own percentiles because MRI intensities have no absolute scale.
 */
export interface WindowLevel {
  level: number;
  width: number;
}

export type WindowPreset = 'auto' | 'soft' | 'contrast' | 'full';

export function presetWindow(
  preset: WindowPreset,
  low: number,
  high: number,
  min: number,
  max: number,
): WindowLevel {
  const span = Math.max(1, high - low);
  switch (preset) {
    case 'auto':
      return { level: (low + high) / 2, width: span };
    case 'soft':
      return { level: low + span * 0.45, width: span * 1.3 };
    case 'contrast':
      return { level: low + span * 0.45, width: span * 0.6 };
    case 'full':
      return { level: (min + max) / 2, width: Math.max(1, max - min) };
  }
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

export { minMax } from '../../main/core/arrays';
