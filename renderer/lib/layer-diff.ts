/**
 * Difference of two contour layers on one slice (pure): pixels only the working contour has, pixels only
 * the other layer has, and pixels both have, over the organs shown; painted in two colours that are not
 * organ colours, so a disagreement stands out whatever the organ.
 */
import type { Organ } from '../../main/core/organs';

export type OrganMasks = Partial<Record<Organ, Uint8Array>>;

/** Cyan: only the working contour; magenta: only the other layer. */
export const ONLY_WORKING_RGB: [number, number, number] = [0, 200, 255];
export const ONLY_OTHER_RGB: [number, number, number] = [255, 0, 200];

export interface LayerDifference {
  onlyWorking: Uint8Array;
  onlyOther: Uint8Array;
  counts: { onlyWorking: number; onlyOther: number; both: number };
}

export function layerDifference(
  working: OrganMasks | undefined,
  other: OrganMasks | undefined,
  organs: readonly Organ[],
  pixels: number,
): LayerDifference {
  const onlyWorking = new Uint8Array(pixels);
  const onlyOther = new Uint8Array(pixels);
  const counts = { onlyWorking: 0, onlyOther: 0, both: 0 };
  for (const organ of organs) {
    const a = working?.[organ];
    const b = other?.[organ];
    for (let i = 0; i < pixels; i++) {
      const inA = a ? a[i] !== 0 : false;
      const inB = b ? b[i] !== 0 : false;
      if (inA && inB) counts.both++;
      else if (inA) {
        onlyWorking[i] = 1;
        counts.onlyWorking++;
      } else if (inB) {
        onlyOther[i] = 1;
        counts.onlyOther++;
      }
    }
  }
  return { onlyWorking, onlyOther, counts };
}

/** Paint a difference over RGBA pixels in place at `opacity`. */
export function blendDifference(rgba: Uint8ClampedArray, diff: LayerDifference, opacity: number): void {
  const paint = (mask: Uint8Array, [r, g, b]: [number, number, number]) => {
    for (let i = 0, j = 0; i < mask.length; i++, j += 4) {
      if (!mask[i]) continue;
      rgba[j] = rgba[j]! + (r - rgba[j]!) * opacity;
      rgba[j + 1] = rgba[j + 1]! + (g - rgba[j + 1]!) * opacity;
      rgba[j + 2] = rgba[j + 2]! + (b - rgba[j + 2]!) * opacity;
    }
  };
  paint(diff.onlyWorking, ONLY_WORKING_RGB);
  paint(diff.onlyOther, ONLY_OTHER_RGB);
}
