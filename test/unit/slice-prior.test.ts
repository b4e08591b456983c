import { describe, expect, it } from 'vitest';
import type { Organ } from '../../main/core/organs';
import {
  appliesSlicePrior,
  learnSlicePrior,
  priorAllows,
  scanSliceCount,
  slicePosition,
  type SlicePrior,
} from '../../main/model/slice-prior';
import { BASE_POSTPROCESS, type HeldOutSlice } from '../../main/services/crossval-score';
import {
  scoreHeldOutScans,
  scoreNestedChoice,
  scoreWithSlicePrior,
} from '../../main/services/crossval-scans';

const none = { large_bowel: false, small_bowel: false, stomach: false };
const only = (organ: Organ) => ({ ...none, [organ]: true });

describe('slice position prior', () => {
  it('places slices from the first (0) towards the last (1), counting up to the highest number', () => {
    expect(slicePosition(1, 144)).toBe(0);
    expect(slicePosition(73, 144)).toBe(0.5);
    expect(scanSliceCount([{ number: 6 }, { number: 7 }, { number: 140 }])).toBe(140);
    expect(scanSliceCount([{ number: 1 }, { number: 2 }])).toBe(2);
  });

  it('learns p(outlined | position bin) per organ (hand-counted on two 4-slice scans, 2 bins)', () => {
    const prior = learnSlicePrior(
      [
        // bin 0 = slices 1–2, bin 1 = slices 3–4
        {
          count: 4,
          slices: [1, 2, 3, 4].map((number) => ({
            number,
            present: only(number === 2 ? 'stomach' : 'small_bowel'),
          })),
        },
        {
          count: 4,
          slices: [1, 2, 3, 4].map((number) => ({
            number,
            present: number >= 3 ? only('large_bowel') : none,
          })),
        },
      ],
      2,
    );
    // stomach: 1 of 4 slices in bin 0, none in bin 1; small bowel: 1 of 4 in bin 0 (slice 1 of scan 1), 2 of 4 in bin 1.
    expect(prior).toEqual({ large_bowel: [0, 0.5], small_bowel: [0.25, 0.5], stomach: [0.25, 0] });
  });

  it('drops an organ only where its bin is rarer than minPrior, and only on UW-Madison scans', () => {
    const prior: SlicePrior = {
      source: 'test',
      scans: 2,
      organs: { large_bowel: [0, 0.5], small_bowel: [0.25, 0.5], stomach: [0.25, 0] },
      minPrior: 0.1,
    };
    expect(priorAllows(prior, 'large_bowel', 0.2)).toBe(false);
    expect(priorAllows(prior, 'large_bowel', 0.7)).toBe(true);
    expect(priorAllows(prior, 'stomach', 1)).toBe(false);
    expect(appliesSlicePrior({ source: 'uwmgi' })).toBe(true);
    expect(appliesSlicePrior({ source: 'dicom' })).toBe(false);
  });
});

/** A 1×2-pixel held-out slice: stomach probabilities and truth. */
function heldOut(id: string, prob: number[], truth: number[] | null, patientId = 'case1'): HeldOutSlice {
  const width = prob.length;
  const empty = { width, height: 1, prob: new Float32Array(width), truth: undefined };
  return {
    sliceId: id,
    patientId,
    organs: {
      large_bowel: empty,
      small_bowel: empty,
      stomach: {
        width,
        height: 1,
        prob: new Float32Array(prob),
        truth: truth ? new Uint8Array(truth) : undefined,
      },
    },
  };
}

describe('whole-scan scoring of held-out maps', () => {
  const slices = [
    heldOut('case1_day0_slice_0001', [0.9, 0.2], [1, 0]), // exact: Dice 1
    heldOut('case1_day0_slice_0002', [0.9, 0.9], null), // false positive: Dice 0
  ];
  const scan = { id: 'case1_day0', pixelSpacing: null, slices: [{ number: 1 }, { number: 2 }] as never };
  const placeOf = (id: string) => ({ scan, index: id.endsWith('1') ? 0 : 1 });
  const plain = () => ({
    large_bowel: BASE_POSTPROCESS,
    small_bowel: BASE_POSTPROCESS,
    stomach: BASE_POSTPROCESS,
  });

  it('scores as evaluate does: Dice with empties counting 1, 3-D Hausdorff, competition score', () => {
    const r = scoreHeldOutScans(slices, placeOf, plain);
    // Stomach: slice 1 Dice 1, slice 2 Dice 0 (only predicted); bowel: 4 empty pairs (Dice 1 each).
    expect(r.pooled.dice.stomach).toBe(0.5);
    expect(r.pooled.competition.dice.mean).toBeCloseTo(5 / 6, 12);
    // Stomach volumes: truth {(z0,x0)}, prediction {(z0,x0), (z1,x0), (z1,x1)}: the farthest predicted voxel
    // (z1, x1) is √2 from the truth; the diagonal of the 2×1×2 volume is √(2² + 1² + 2²) = 3.
    expect(r.pooled.hausdorff.stomach).toBeCloseTo(Math.SQRT2 / 3, 12);
    // Bowel volumes are empty on both sides: Hausdorff 0 in the competition's reading.
    expect(r.pooled.competition.hausdorff.mean).toBeCloseTo(Math.SQRT2 / 9, 12);
    expect(r.pooled.competition.score).toBeCloseTo(0.4 * (5 / 6) + 0.6 * (1 - Math.SQRT2 / 9), 12);
    expect(r.perScan).toHaveLength(1);
  });

  it('the position prior removes the false positive on the second half of each scan (threshold tuned nested)', () => {
    const prior: SlicePrior = {
      source: 'test',
      scans: 1,
      organs: { large_bowel: [1, 1], small_bowel: [1, 1], stomach: [1, 0] },
      minPrior: 0.5,
    };
    const two = [
      ...slices,
      heldOut('case2_day0_slice_0001', [0.9, 0.2], [1, 0], 'case2'),
      heldOut('case2_day0_slice_0002', [0.9, 0.9], null, 'case2'),
    ];
    const scans = new Map(['case1_day0', 'case2_day0'].map((id) => [id, { ...scan, id }]));
    const placeTwo = (id: string) => ({ scan: scans.get(id.slice(0, 10))!, index: id.endsWith('1') ? 0 : 1 });
    const { report, minPrior } = scoreWithSlicePrior(two, placeTwo, plain, prior, [0, 0.5]);
    // Each patient's threshold is chosen on the other patient's scan, where 0.5 removes its false positive.
    expect(report.minPrior).toEqual({ case1: 0.5, case2: 0.5 });
    expect(minPrior).toBe(0.5);
    expect(report.pooled.competition.dice.mean).toBe(1);
    expect(report.pooled.competition.score).toBe(1);
    // With a single patient there is nothing to tune on: the prior stays off.
    expect(scoreWithSlicePrior(slices, placeOf, plain, prior, [0, 0.5]).report.minPrior).toEqual({
      case1: 0,
    });
  });

  it('the 3-D cleanup drops a stray body slices away from the organ', () => {
    const three = [
      heldOut('case1_day0_slice_0001', [0.9, 0.9, 0.2], [1, 1, 0]),
      heldOut('case1_day0_slice_0002', [0.1, 0.1, 0.1], null),
      heldOut('case1_day0_slice_0003', [0, 0, 0.9], null), // 1 voxel, not touching the 2-voxel body
    ];
    const scan3 = { ...scan, slices: [{ number: 1 }, { number: 2 }, { number: 3 }] as never };
    const place3 = (id: string) => ({ scan: scan3, index: Number(id.slice(-1)) - 1 });
    const withShare = (share: number) => () => ({
      ...plain(),
      stomach: { ...BASE_POSTPROCESS, minVolumeShare: share },
    });
    expect(
      scoreHeldOutScans(three, place3, withShare(0)).pooled.counts.per_organ.stomach.false_positive_slices,
    ).toBe(1);
    const cleaned = scoreHeldOutScans(three, place3, withShare(1)).pooled;
    expect(cleaned.counts.per_organ.stomach.false_positive_slices).toBe(0);
    expect(cleaned.competition.score).toBe(1);
  });

  it('an empty-organ gate in mm² uses each scan’s pixel spacing', () => {
    // Slice 1: one true pixel; slice 2: a two-pixel false positive. At 10 × 10 mm a pixel is 100 mm².
    const gated = (mm2: number) => () => {
      const p = { ...BASE_POSTPROCESS, gateMinMm2: mm2 };
      return { large_bowel: p, small_bowel: p, stomach: p };
    };
    const spaced = { ...scan, pixelSpacing: [10, 10] as [number, number] };
    const placeSpaced = (id: string) => ({ scan: spaced, index: id.endsWith('1') ? 0 : 1 });
    const fp = (r: ReturnType<typeof scoreHeldOutScans>) =>
      r.pooled.counts.per_organ.stomach.false_positive_slices;
    // 150 mm² = 2 pixels: the two-pixel false positive stays (the one-pixel true mask goes); 250 mm² = 3
    // pixels: both go.
    expect(fp(scoreHeldOutScans(slices, placeSpaced, gated(150)))).toBe(1);
    const strict = scoreHeldOutScans(slices, placeSpaced, gated(250)).pooled;
    expect(strict.counts.per_organ.stomach.false_positive_slices).toBe(0);
    expect(strict.counts.per_organ.stomach.missed_slices).toBe(1);
    // Without a spacing the mm² rule cannot apply: the pixel rule (0) keeps the false positive.
    expect(fp(scoreHeldOutScans(slices, placeOf, gated(250)))).toBe(1);
  });

  it("chooses a threshold per patient by the other patients' competition score", () => {
    const two = ['case1', 'case2'].flatMap((p) => [
      heldOut(`${p}_day0_slice_0001`, [0.99, 0.2], [1, 0], p),
      heldOut(`${p}_day0_slice_0002`, [0.9, 0.9], null, p),
    ]);
    const scans = new Map(['case1_day0', 'case2_day0'].map((id) => [id, { ...scan, id }]));
    const placeTwo = (id: string) => ({ scan: scans.get(id.slice(0, 10))!, index: id.endsWith('1') ? 0 : 1 });
    const at = (t: number) => {
      const p = { ...BASE_POSTPROCESS, threshold: t, gateThreshold: t };
      return { label: `t${t}`, post: { large_bowel: p, small_bowel: p, stomach: p }, minPrior: 0 };
    };
    const r = scoreNestedChoice(two, placeTwo, [at(0.5), at(0.95)], null);
    // 0.95 keeps the true pixel (0.99) and drops the false positive (0.9): a perfect score.
    expect(r.chosen).toEqual({ case1: 't0.95', case2: 't0.95' });
    expect(r.best.label).toBe('t0.95');
    expect(r.report.pooled.competition.score).toBe(1);
  });
});
