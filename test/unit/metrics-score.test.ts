import { describe, expect, it } from 'vitest';
import { diceOf, overlapCounts } from '../../main/metrics/dice';
import { SegmentationScorer, diceWhereBoth } from '../../main/metrics/segmentation-score';
import type { BinaryMask } from '../../main/core/types';

const W = 4;
const H = 3;
function mask(...pixels: number[]): BinaryMask {
  const data = new Uint8Array(W * H);
  for (const p of pixels) data[p] = 1;
  return { width: W, height: H, data };
}

describe('Dice', () => {
  it('is 2|A∩B|/(|A|+|B|), null for two empty masks', () => {
    expect(diceOf(overlapCounts(mask(0, 1, 2).data, mask(1, 2, 3, 4).data))).toBeCloseTo((2 * 2) / 7, 15);
    expect(diceOf(overlapCounts(mask().data, mask().data))).toBeNull();
    expect(diceOf(overlapCounts(undefined, mask(1).data))).toBe(0);
    expect(diceOf(overlapCounts(mask(5).data, mask(5).data))).toBe(1);
  });
});

describe('competition score', () => {
  it('combines hand-computed Dice and Hausdorff over pairs of all organs', () => {
    const scorer = new SegmentationScorer();
    scorer.addScan({
      id: 'case1_day1',
      width: W,
      height: H,
      slices: [
        // stomach: gt {0,1}, pred {1}: Dice 2/3. large bowel: gt only → missed.
        { id: 's1', gt: { stomach: mask(0, 1), large_bowel: mask(11) }, pred: { stomach: mask(1) } },
        // stomach: both empty → correct empty. small bowel: prediction only → false positive.
        { id: 's2', gt: {}, pred: { small_bowel: mask(3) } },
      ],
    });
    const r = scorer.result();
    expect(r.dice.stomach).toBeCloseTo(2 / 3, 15);
    expect(r.dice.large_bowel).toBe(0);
    expect(r.dice.small_bowel).toBe(0);
    expect(r.dice.mean).toBeCloseTo(2 / 3 / 3, 15);
    // stomach: gt voxels (0,0,0),(0,0,1); pred (0,0,1) → directed distances 1 and 0 → 1 / √(2²+3²+4²).
    const diag = Math.sqrt(4 + 9 + 16);
    expect(r.hausdorff.stomach).toBeCloseTo(1 / diag, 15);
    expect(r.hausdorff.large_bowel).toBe(1);
    expect(r.hausdorff.small_bowel).toBe(1);
    const meanH = (1 / diag + 2) / 3;
    expect(r.hausdorff.mean).toBeCloseTo(meanH, 15);
    expect(r.score).toBeCloseTo(0.4 * (2 / 9) + 0.6 * (1 - meanH), 15);
    expect(r.counts).toMatchObject({
      scans: 1,
      slices: 2,
      pairs_scored: 3,
      correct_empties: 3,
      false_positive_slices: 1,
      missed_slices: 1,
      hausdorff_pairs: 3,
      hausdorff_one_side_empty: 2,
    });
    expect(r.counts.per_organ.stomach).toMatchObject({ pairs_scored: 1, correct_empties: 1 });
    // Of the three Dice pairs only the stomach's has the organ on both sides: 2/3 there, none elsewhere.
    const both = diceWhereBoth(r);
    expect(both.stomach).toBeCloseTo(2 / 3, 15);
    expect(both.large_bowel).toBeNull();
    expect(both.small_bowel).toBeNull();
    expect(both.mean).toBeCloseTo(2 / 3, 15);
  });

  it('reports null, not a number, when nothing was scored', () => {
    const scorer = new SegmentationScorer();
    scorer.addScan({ id: 'c', width: W, height: H, slices: [{ id: 's', gt: {}, pred: {} }] });
    const r = scorer.result();
    expect(r.score).toBeNull();
    expect(r.dice.mean).toBeNull();
    expect(r.counts.correct_empties).toBe(3);
  });

  it('rejects a mask whose size differs from the slice', () => {
    const scorer = new SegmentationScorer();
    const wrong = { width: 2, height: 2, data: new Uint8Array(4) };
    expect(() =>
      scorer.addScan({
        id: 'c',
        width: W,
        height: H,
        slices: [{ id: 's', gt: {}, pred: { stomach: wrong } }],
      }),
    ).toThrow(/s: prediction stomach mask is 2×2/);
  });
});

describe('pooling scorers', () => {
  it('two scans scored apart and merged give what one scorer of both gives', () => {
    const a = {
      id: 'a',
      width: W,
      height: H,
      slices: [{ id: 's1', gt: { stomach: mask(0, 1) }, pred: { stomach: mask(1) } }],
    };
    const b = {
      id: 'b',
      width: W,
      height: H,
      slices: [{ id: 's2', gt: {}, pred: { small_bowel: mask(3) } }],
    };
    const both = new SegmentationScorer();
    both.addScan(a);
    both.addScan(b);
    const first = new SegmentationScorer();
    first.addScan(a);
    const second = new SegmentationScorer();
    second.addScan(b);
    expect(new SegmentationScorer().merge(first).merge(second).result()).toEqual(both.result());
  });
});
