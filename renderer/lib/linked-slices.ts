/**
 * Linked scrolling of two scans (two treatment days of a patient): show the slice of the other scan at the
 * same millimetre position along the slice axis, so the same anatomy level is compared even when the
 * days have different slice counts. Falls back to the same relative position when either scan lacks
 * positions.
 */
export interface PositionedSlices {
  slices: ReadonlyArray<{ positionMm: number | null }>;
}

/** Index in `to` of the slice nearest in mm to slice `index` of `from` (ties: the lower index). */
export function linkedSliceIndex(from: PositionedSlices, index: number, to: PositionedSlices): number {
  const n = from.slices.length;
  const m = to.slices.length;
  if (m === 0) return 0;
  const here = from.slices[Math.max(0, Math.min(n - 1, index))]?.positionMm ?? null;
  const positioned = here !== null && to.slices.every((s) => s.positionMm !== null);
  if (!positioned) return n <= 1 ? 0 : Math.round((index / (n - 1)) * (m - 1));
  let best = 0;
  let bestDistance = Infinity;
  to.slices.forEach((s, i) => {
    const d = Math.abs(s.positionMm! - here);
    if (d < bestDistance) {
      best = i;
      bestDistance = d;
    }
  });
  return best;
}
