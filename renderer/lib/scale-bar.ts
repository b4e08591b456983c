/**
 * The scale bar of a viewer: the longest "round" length (1, 2 or 5 × 10ⁿ mm) that fits in the space
 * given, and how many screen pixels it spans at the current zoom. Needs the pixel spacing; none without it.
 */
export interface ScaleBar {
  mm: number;
  px: number;
  label: string;
}

/**
 * `mmPerScreenPx`: millimetres covered by one screen pixel (pixel spacing ÷ zoom); `maxPx`: the longest the
 * bar may be. Returns null when the spacing is unknown or not even 0.1 mm fits.
 */
export function scaleBar(mmPerScreenPx: number | null, maxPx: number): ScaleBar | null {
  if (mmPerScreenPx === null || !(mmPerScreenPx > 0) || !(maxPx > 0)) return null;
  const maxMm = maxPx * mmPerScreenPx;
  let mm = 0;
  for (let exp = Math.floor(Math.log10(maxMm)); exp >= -1 && mm === 0; exp--) {
    for (const m of [5, 2, 1]) {
      const candidate = m * 10 ** exp;
      // A hair of tolerance: 10 mm must fit in exactly 10 mm of space despite floating point.
      if (candidate <= maxMm * (1 + 1e-9)) {
        mm = Number(candidate.toPrecision(6));
        break;
      }
    }
  }
  if (mm === 0) return null;
  const label = mm >= 10 ? `${mm / 10} cm` : `${mm} mm`;
  return { mm, px: mm / mmPerScreenPx, label };
}
