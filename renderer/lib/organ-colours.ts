/**
 * Fixed organ colours, the same as the dataset's colour masks (yellow large bowel, green small bowel,
 * red stomach), so what the clinician sees matches every exported PNG.
 */
import type { Organ } from '../../main/core/organs';

export const ORGAN_RGB: Record<Organ, [number, number, number]> = {
  large_bowel: [255, 214, 0],
  small_bowel: [0, 200, 83],
  stomach: [235, 40, 40],
};

export function organCss(organ: Organ, alpha = 1): string {
  const [r, g, b] = ORGAN_RGB[organ];
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/** Blend organ masks over RGBA pixels in place: fill at `opacity`, or only outlines (opaque) for contours. */
export function blendOverlay(
  rgba: Uint8ClampedArray,
  layers: Array<{ organ: Organ; pixels: Uint8Array }>,
  opacity: number,
): void {
  for (const { organ, pixels } of layers) {
    const [r, g, b] = ORGAN_RGB[organ];
    for (let i = 0, j = 0; i < pixels.length; i++, j += 4) {
      if (!pixels[i]) continue;
      rgba[j] = rgba[j]! + (r - rgba[j]!) * opacity;
      rgba[j + 1] = rgba[j + 1]! + (g - rgba[j + 1]!) * opacity;
      rgba[j + 2] = rgba[j + 2]! + (b - rgba[j + 2]!) * opacity;
    }
  }
}
