/** Dice overlap of two binary masks, counted in one pass over typed arrays. */
import { countNonZero } from '../core/arrays';

export interface OverlapCounts {
  /** Non-zero pixels in a. */
  sizeA: number;
  /** Non-zero pixels in b. */
  sizeB: number;
  /** Pixels non-zero in both. */
  intersection: number;
}

/** Counts for two masks of equal length (any non-zero byte is inside). Absent masks count as empty. */
export function overlapCounts(a: Uint8Array | undefined, b: Uint8Array | undefined): OverlapCounts {
  if (a && b && a.length !== b.length)
    throw new RangeError(`masks differ in size (${a.length} vs ${b.length})`);
  let sizeA = 0;
  let sizeB = 0;
  let intersection = 0;
  if (a && b) {
    for (let i = 0; i < a.length; i++) {
      const inA = a[i] !== 0 ? 1 : 0;
      const inB = b[i] !== 0 ? 1 : 0;
      sizeA += inA;
      sizeB += inB;
      intersection += inA & inB;
    }
  } else {
    sizeA = a ? countNonZero(a) : 0;
    sizeB = b ? countNonZero(b) : 0;
  }
  return { sizeA, sizeB, intersection };
}

/** 2|A∩B| / (|A| + |B|); `null` when both are empty (nothing to score). */
export function diceOf({ sizeA, sizeB, intersection }: OverlapCounts): number | null {
  return sizeA + sizeB === 0 ? null : (2 * intersection) / (sizeA + sizeB);
}
