import { describe, expect, it } from 'vitest';
import type { Organ } from '../../main/core/organs';
import type { Dataset, Scan } from '../../main/core/types';
import type { OrganPostprocess } from '../../main/model/postprocess';
import { isolateSlices, oversample } from '../../main/services/crossval';
import { BASE_POSTPROCESS, HeldOutSet, type HeldOutSlice } from '../../main/services/crossval-score';

/** A 4×4 map from a string of 16 digits (0–9 → probability d/10) and a truth string of 0/1. */
function organ(prob: string, truth?: string) {
  return {
    width: 4,
    height: 4,
    prob: Float32Array.from([...prob].map((c) => Number(c) / 10)),
    truth: truth ? Uint8Array.from([...truth].map(Number)) : undefined,
  };
}

const NOTHING = organ('0000000000000000');

function slice(patientId: string, largeBowel: ReturnType<typeof organ>): HeldOutSlice {
  return {
    sliceId: `${patientId}_slice`,
    patientId,
    organs: { large_bowel: largeBowel, small_bowel: NOTHING, stomach: NOTHING },
  };
}

const plain: Record<Organ, OrganPostprocess> = {
  large_bowel: BASE_POSTPROCESS,
  small_bowel: BASE_POSTPROCESS,
  stomach: BASE_POSTPROCESS,
};

describe('HeldOutSet scoring (hand-computed)', () => {
  // Slice A: truth 4 pixels (top-left 2×2); prediction > 0.5 on 3 of them and 1 outside → |P|=4, |P∩T|=3.
  const a = slice('p1', organ('9900' + '9060' + '0000' + '0000', '1100' + '1100' + '0000' + '0000'));
  // Slice B: organ absent, one faint false positive pixel (0.6).
  const b = slice('p2', organ('0000' + '0000' + '0060' + '0000'));

  it('pools Dice over slices and counts correct empties', () => {
    const s = new HeldOutSet([a, b]).score(plain);
    const lb = s.organs.large_bowel;
    // Pooled: 2·3 / (4 + 4 + 1) = 6/9.
    expect(lb.dice).toBeCloseTo(6 / 9, 10);
    // Per slice: A = 6/8, B = 0 (false positive on an empty slice) → mean 0.375.
    expect(lb.sliceDice).toBeCloseTo(0.375, 10);
    expect(lb.correctEmpty).toBe(0);
    expect(lb.emptySlices).toBe(1);
    // Organs absent everywhere and never predicted: no Dice, every slice a correct empty.
    expect(s.organs.stomach.dice).toBeNull();
    expect(s.organs.stomach.sliceDice).toBe(1);
    expect(s.organs.stomach.correctEmpty).toBe(1);
    expect(s.meanDice).toBeCloseTo(6 / 9, 10);
  });

  it('tuning finds a gate or component size that clears the lone false positive and keeps the organ', () => {
    const set = new HeldOutSet([a, b]);
    const post = set.tune();
    const lb = set.score({ ...plain, large_bowel: post.large_bowel }).organs.large_bowel;
    // Best reachable: slice B empty (1) and slice A unchanged or better: ≥ (1 + 6/8) / 2.
    expect(lb.correctEmpty).toBe(1);
    expect(lb.sliceDice).toBeGreaterThanOrEqual((1 + 6 / 8) / 2 - 1e-12);
  });

  it('nested scoring tunes each patient on the other patients only', () => {
    const set = new HeldOutSet([a, b]);
    const { settings } = set.nestedScore();
    expect(settings.p1).toEqual(set.tune(['p2']));
    expect(settings.p2).toEqual(set.tune(['p1']));
  });

  it('refuses settings outside its grid rather than scoring something else', () => {
    const set = new HeldOutSet([a]);
    const odd = { ...BASE_POSTPROCESS, threshold: 0.55 };
    expect(() => set.score({ ...plain, stomach: odd })).toThrow(/0\.55/);
  });
});

describe('isolateSlices', () => {
  const pixels = [1, 2, 3].map((v) => ({ width: 1, height: 1, data: Uint8Array.of(v) }));
  const scan: Scan = {
    id: 'case1_day1',
    patientId: 'case1',
    studyId: 'case1_day1',
    day: 'day1',
    width: 1,
    height: 1,
    pixelSpacing: null,
    sliceThickness: null,
    intensity: 'uint8',
    source: 'coco',
    slices: [10, 40, 90].map((n) => ({
      id: `case1_day1_slice_${n}`,
      number: n,
      width: 1,
      height: 1,
    })),
    readSlice: async (i) => pixels[i]!,
  };
  const dataset: Dataset = {
    root: 'x',
    patients: [{ id: 'case1', studies: [{ id: 's', patientId: 'case1', day: 'day1', scans: [scan] }] }],
    masks: new Map(),
  };

  it('gives each slice its own scan, with its own pixels and the same slice id', async () => {
    const scans = isolateSlices(dataset).patients[0]!.studies[0]!.scans;
    expect(scans.map((s) => s.slices.map((i) => i.id))).toEqual([
      ['case1_day1_slice_10'],
      ['case1_day1_slice_40'],
      ['case1_day1_slice_90'],
    ]);
    expect(new Set(scans.map((s) => s.id)).size).toBe(3);
    expect((await scans[2]!.readSlice(0)).data[0]).toBe(3);
    await expect(scans[0]!.readSlice(1)).rejects.toThrow(RangeError);
  });
});

describe('oversample', () => {
  it('repeats the small set to about the asked share', () => {
    // 10 items against 300 others at share 0.5 → 30 copies (300 items).
    expect(
      oversample(
        Array.from({ length: 10 }, (_, i) => i),
        300,
        0.5,
      ),
    ).toHaveLength(300);
    expect(oversample([1, 2], 0, 0.5)).toEqual([1, 2]);
  });
});
