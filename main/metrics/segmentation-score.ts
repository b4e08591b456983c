/**
 * The UW-Madison competition score, fed one scan at a time so only one scan's masks are ever in memory:
 * Dice per (slice, organ), normalised 3-D Hausdorff per (scan, organ), score = 0.4·Dice + 0.6·(1 − Hausdorff).
 */
import { ORGANS, type Organ } from '../core/organs';
import type { SliceMasks } from '../core/types';
import { diceOf, overlapCounts } from './dice';
import { normalisedHausdorff3d } from './hausdorff';

/** One slice of a ground-truth scan with the prediction for it (an absent organ is an empty mask). */
export interface ScoredSlice {
  id: string;
  gt: SliceMasks;
  pred: SliceMasks;
}

/**
 * A scan as the ground truth defines it: its slices in slice order. Slices the prediction has but the ground
 * truth lacks are not part of it (the caller drops and counts them); ground-truth slices without a prediction
 * are scored against empty masks.
 */
export interface ScoredScan {
  id: string;
  width: number;
  height: number;
  slices: ScoredSlice[];
}

export type PerOrgan<T> = Record<Organ, T>;
export type OrganMeans = PerOrgan<number | null> & { mean: number | null };

export interface OrganCounts {
  /** (slice, organ) pairs with ground truth or prediction non-empty: the Dice pairs. */
  pairs_scored: number;
  /** (slice, organ) pairs empty on both sides: correct, not part of the Dice mean. */
  correct_empties: number;
  /** Pairs where only the prediction has pixels (Dice 0). */
  false_positive_slices: number;
  /** Pairs where only the ground truth has pixels (Dice 0). */
  missed_slices: number;
  /** (scan, organ) pairs with a Hausdorff value. */
  hausdorff_pairs: number;
  /** Of those, scans where exactly one side is empty (Hausdorff 1). */
  hausdorff_one_side_empty: number;
}

export interface SegmentationScore {
  /** Dice over the (slice, organ) pairs where the organ is present or predicted. */
  dice: OrganMeans;
  hausdorff: OrganMeans;
  /** 0.4 · mean Dice + 0.6 · (1 − mean Hausdorff) over the pairs above; null when nothing was scored. */
  score: number | null;
  /**
   * The Kaggle competition's reading: a (slice, organ) empty on both sides counts Dice 1, a (scan, organ)
   * empty on both sides counts Hausdorff 0; score = 0.4 · Dice + 0.6 · (1 − Hausdorff).
   */
  competition: { dice: OrganMeans; hausdorff: OrganMeans; score: number | null };
  counts: OrganCounts & { scans: number; slices: number; per_organ: PerOrgan<OrganCounts> };
}

const emptyCounts = (): OrganCounts => ({
  pairs_scored: 0,
  correct_empties: 0,
  false_positive_slices: 0,
  missed_slices: 0,
  hausdorff_pairs: 0,
  hausdorff_one_side_empty: 0,
});

export class SegmentationScorer {
  private readonly diceSum = perOrgan(() => 0);
  private readonly hausdorffSum = perOrgan(() => 0);
  private readonly counts = perOrgan(emptyCounts);
  /** (scan, organ) pairs empty on both sides: Hausdorff 0 in the competition's reading. */
  private readonly bothEmptyScans = perOrgan(() => 0);
  private scans = 0;
  private slices = 0;

  /** Adds what `other` has scored, as if its scans had been added here (scores of scan sets pool). */
  merge(other: SegmentationScorer): this {
    for (const organ of ORGANS) {
      this.diceSum[organ] += other.diceSum[organ];
      this.hausdorffSum[organ] += other.hausdorffSum[organ];
      this.bothEmptyScans[organ] += other.bothEmptyScans[organ];
      const counts = this.counts[organ];
      for (const key of Object.keys(counts) as Array<keyof OrganCounts>)
        counts[key] += other.counts[organ][key];
    }
    this.scans += other.scans;
    this.slices += other.slices;
    return this;
  }

  addScan(scan: ScoredScan): void {
    const { width, height, slices } = scan;
    const plane = width * height;
    const dims = { depth: slices.length, height, width };
    this.scans++;
    this.slices += slices.length;
    for (const organ of ORGANS) {
      const counts = this.counts[organ];
      const gtVolume = new Uint8Array(plane * slices.length);
      const predVolume = new Uint8Array(plane * slices.length);
      slices.forEach((slice, z) => {
        const gt = maskData(slice.gt, organ, slice.id, width, height, 'ground truth');
        const pred = maskData(slice.pred, organ, slice.id, width, height, 'prediction');
        const overlap = overlapCounts(gt, pred);
        if (gt && overlap.sizeA > 0) copyAsBinary(gt, gtVolume, z * plane);
        if (pred && overlap.sizeB > 0) copyAsBinary(pred, predVolume, z * plane);
        const dice = diceOf(overlap);
        if (dice === null) {
          counts.correct_empties++;
          return;
        }
        counts.pairs_scored++;
        if (overlap.sizeA === 0) counts.false_positive_slices++;
        if (overlap.sizeB === 0) counts.missed_slices++;
        this.diceSum[organ] += dice;
      });
      const hausdorff = normalisedHausdorff3d(gtVolume, predVolume, dims);
      if (hausdorff === null) {
        this.bothEmptyScans[organ]++;
        continue;
      }
      counts.hausdorff_pairs++;
      if (hausdorff === 1 && (isEmpty(gtVolume) || isEmpty(predVolume))) counts.hausdorff_one_side_empty++;
      this.hausdorffSum[organ] += hausdorff;
    }
  }

  result(): SegmentationScore {
    const total = emptyCounts();
    for (const organ of ORGANS) {
      for (const key of Object.keys(total) as Array<keyof OrganCounts>) total[key] += this.counts[organ][key];
    }
    const dice = means(this.diceSum, (o) => this.counts[o].pairs_scored);
    const hausdorff = means(this.hausdorffSum, (o) => this.counts[o].hausdorff_pairs);
    const score =
      dice.mean === null || hausdorff.mean === null ? null : 0.4 * dice.mean + 0.6 * (1 - hausdorff.mean);
    const competitionDice = means(
      perOrgan((o) => this.diceSum[o] + this.counts[o].correct_empties),
      (o) => this.counts[o].pairs_scored + this.counts[o].correct_empties,
    );
    const competitionHausdorff = means(
      this.hausdorffSum,
      (o) => this.counts[o].hausdorff_pairs + this.bothEmptyScans[o],
    );
    const competitionScore =
      competitionDice.mean === null || competitionHausdorff.mean === null
        ? null
        : 0.4 * competitionDice.mean + 0.6 * (1 - competitionHausdorff.mean);
    return {
      dice,
      hausdorff,
      score,
      competition: { dice: competitionDice, hausdorff: competitionHausdorff, score: competitionScore },
      counts: {
        scans: this.scans,
        slices: this.slices,
        ...total,
        per_organ: perOrgan((o) => ({ ...this.counts[o] })),
      },
    };
  }
}

/**
 * The Dice where present or predicted, split: its mean over the pairs where truth and prediction both have
 * the organ. The other pairs (predicted only, missed) score 0, so this says how much of the shortfall is
 * outline quality and how much is organs put on, or left off, whole slices.
 */
export function diceWhereBoth(score: Pick<SegmentationScore, 'dice' | 'counts'>): OrganMeans {
  const both = (o: Organ): number => {
    const c = score.counts.per_organ[o];
    return c.pairs_scored - c.false_positive_slices - c.missed_slices;
  };
  return means(
    perOrgan((o) => (score.dice[o] ?? 0) * score.counts.per_organ[o].pairs_scored),
    both,
  );
}

function maskData(
  masks: SliceMasks,
  organ: Organ,
  sliceId: string,
  width: number,
  height: number,
  side: string,
): Uint8Array | undefined {
  const mask = masks[organ];
  if (!mask) return undefined;
  if (mask.width !== width || mask.height !== height || mask.data.length !== width * height) {
    throw new RangeError(
      `${sliceId}: ${side} ${organ} mask is ${mask.width}×${mask.height}, the slice is ${width}×${height}`,
    );
  }
  return mask.data;
}

/** Copy a slice into the volume as exact 0/1 (a mask may use any non-zero byte for inside). */
function copyAsBinary(mask: Uint8Array, volume: Uint8Array, offset: number): void {
  for (let i = 0; i < mask.length; i++) volume[offset + i] = mask[i] !== 0 ? 1 : 0;
}

function isEmpty(volume: Uint8Array): boolean {
  for (let i = 0; i < volume.length; i++) if (volume[i] !== 0) return false;
  return true;
}

function perOrgan<T>(make: (organ: Organ) => T): PerOrgan<T> {
  return Object.fromEntries(ORGANS.map((o) => [o, make(o)])) as PerOrgan<T>;
}

/** Per-organ means and the mean over all pairs of all organs (not the mean of the organ means). */
function means(sums: PerOrgan<number>, count: (organ: Organ) => number): OrganMeans {
  let sum = 0;
  let n = 0;
  const result = perOrgan<number | null>((o) => {
    sum += sums[o];
    n += count(o);
    return count(o) === 0 ? null : sums[o] / count(o);
  });
  return { ...result, mean: n === 0 ? null : sum / n };
}
