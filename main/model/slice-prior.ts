/**
 * Where along a scan the annotators drew. In the UW-Madison data only a band of each scan is outlined
 * (the pelvic slices below it are left empty although bowel is visible there), so an organ predicted far
 * outside the band costs a full Dice point per slice and inflates the 3-D Hausdorff term. The prior is
 * p(organ outlined | relative slice position), learned from real ground-truth masks of many scans; an
 * organ is dropped from a slice whose position makes it rarer than `minPrior`.
 *
 * Relative position runs from the scan's first slice (0, superior in the UW-Madison numbering) to its
 * last (1). It is only meaningful for scans ordered and framed like the data it was learned on, so
 * inference applies it to UW-Madison-layout scans only (see `appliesSlicePrior`).
 */
import { z } from 'zod';
import { ORGANS, type Organ } from '../core/organs';
import type { ScanInfo } from '../core/types';

const probabilities = z.array(z.number().min(0).max(1)).min(1);

export const slicePriorSchema = z.object({
  /** The masks it was learned from (name and source, not a machine path), and how many scans. */
  source: z.string(),
  scans: z.number().int().min(0),
  /** Per organ, p(outlined) in equal bins of relative position (bin k covers [k/n, (k+1)/n)). */
  organs: z.object({ large_bowel: probabilities, small_bowel: probabilities, stomach: probabilities }),
  /** An organ is dropped from a slice whose bin's probability is below this (0 disables). */
  minPrior: z.number().min(0).max(1),
});
export type SlicePrior = z.infer<typeof slicePriorSchema>;

/**
 * Relative position of slice `number` (1-based, as the source counts it) in a scan of `count` slices. A
 * scan whose files stop short (slices missing at its ends) still counts up to its highest number.
 */
export function slicePosition(number: number, count: number): number {
  return count <= 1 ? 0.5 : Math.min(1, Math.max(0, (number - 1) / count));
}

/** The scan's slice count as the prior counts it: its slices, or its highest slice number if larger. */
export function scanSliceCount(slices: ReadonlyArray<{ number: number }>): number {
  let max = 0;
  for (const s of slices) max = Math.max(max, s.number);
  return Math.max(slices.length, max);
}

export function priorAt(prior: SlicePrior, organ: Organ, position: number): number {
  const bins = prior.organs[organ];
  return bins[Math.min(bins.length - 1, Math.max(0, Math.floor(position * bins.length)))]!;
}

/** True when the prior keeps `organ` on a slice at `position`. */
export function priorAllows(prior: SlicePrior, organ: Organ, position: number): boolean {
  return priorAt(prior, organ, position) >= prior.minPrior;
}

/** The prior is learned on UW-Madison scans, numbered from the top of the abdomen down. */
export function appliesSlicePrior(scan: Pick<ScanInfo, 'source'>): boolean {
  return scan.source === 'uwmgi';
}

/** One scan's outlines: for each slice number, which organs are outlined. */
export interface ScanPresence {
  count: number;
  slices: Array<{ number: number; present: Record<Organ, boolean> }>;
}

/** p(outlined | position bin) per organ over the given scans; an empty bin gets probability 0. */
export function learnSlicePrior(scans: readonly ScanPresence[], bins: number): Record<Organ, number[]> {
  const out = {} as Record<Organ, number[]>;
  for (const organ of ORGANS) {
    const seen = new Array<number>(bins).fill(0);
    const outlined = new Array<number>(bins).fill(0);
    for (const scan of scans) {
      for (const s of scan.slices) {
        const b = Math.min(bins - 1, Math.floor(slicePosition(s.number, scan.count) * bins));
        seen[b]!++;
        if (s.present[organ]) outlined[b]!++;
      }
    }
    out[organ] = seen.map((n, b) => (n === 0 ? 0 : Math.round((outlined[b]! / n) * 1e4) / 1e4));
  }
  return out;
}
