/**
 * Scoring and post-processing tuning for patient-wise cross-validation, on held-out probability maps.
 *
 * Tuning searches a small grid of (threshold, empty-organ gate, minimum component) per organ. To make a
 * grid of hundreds of settings cheap, each slice's map is reduced once per threshold to its connected
 * components (size, overlap with the truth) and once per gate threshold to a pixel count; a setting is then
 * scored from those numbers alone, with the same rules as `postprocessOrgan`.
 *
 * The objective is the per-slice Dice averaged over slices, with "organ absent and nothing predicted"
 * scoring 1 and a false positive on an empty slice 0 (the UW-Madison Kaggle rule), so the gate is rewarded
 * for correct empties and punished for dropping real organs.
 */
import { ORGANS, type Organ } from '../core/organs';
import type { BinaryMask } from '../core/types';
import { labelComponents, type OrganPostprocess } from '../model/postprocess';

/** One organ on one held-out slice: predicted probabilities and the truth, at the slice's native size. */
export interface OrganPrediction {
  width: number;
  height: number;
  prob: Float32Array;
  /** Ground truth; undefined when the organ is absent. */
  truth: Uint8Array | undefined;
}

export interface HeldOutSlice {
  sliceId: string;
  patientId: string;
  organs: Record<Organ, OrganPrediction>;
}

export interface TuningGrid {
  thresholds: number[];
  gateThresholds: number[];
  gateMinPixels: number[];
  minComponentPixels: number[];
}

export const DEFAULT_TUNING_GRID: TuningGrid = {
  thresholds: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7],
  gateThresholds: [0.3, 0.5, 0.6, 0.7, 0.8, 0.9],
  gateMinPixels: [0, 25, 100, 400, 1600, 4000],
  minComponentPixels: [0, 25, 100, 400, 1600],
};

/** What one organ map on one slice reduces to, enough to score any grid setting. */
interface Evidence {
  truthPixels: number;
  /** Per threshold: component sizes and their overlap with the truth. */
  components: Array<{ sizes: Int32Array; overlaps: Int32Array }>;
  /** Per gate threshold: pixels above it. */
  gateCounts: number[];
}

function evidenceOf(p: OrganPrediction, grid: TuningGrid): Evidence {
  const n = p.width * p.height;
  let truthPixels = 0;
  if (p.truth) for (let i = 0; i < n; i++) truthPixels += p.truth[i] ? 1 : 0;
  const components = grid.thresholds.map((t) => {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = p.prob[i]! > t ? 1 : 0;
    const mask: BinaryMask = { width: p.width, height: p.height, data };
    const { labels, sizes } = labelComponents(mask);
    const overlaps = new Int32Array(sizes.length);
    if (p.truth) for (let i = 0; i < n; i++) if (labels[i] && p.truth[i]) overlaps[labels[i]!]!++;
    return { sizes: Int32Array.from(sizes), overlaps };
  });
  const gateCounts = grid.gateThresholds.map((g) => {
    let c = 0;
    for (let i = 0; i < n; i++) if (p.prob[i]! > g) c++;
    return c;
  });
  return { truthPixels, components, gateCounts };
}

/** Pixel counts of one organ on one slice after post-processing with grid setting (ti, gi, gm, mc). */
interface Outcome {
  predicted: number;
  truth: number;
  intersection: number;
}

function outcomeOf(e: Evidence, ti: number, gi: number, gateMin: number, minComp: number): Outcome {
  const { sizes, overlaps } = e.components[ti]!;
  let predicted = 0;
  let intersection = 0;
  let any = false;
  for (let k = 1; k < sizes.length; k++) any ||= sizes[k]! > 0;
  // As postprocessOrgan: nothing above the threshold, or too few pixels above the gate → organ absent.
  if (any && e.gateCounts[gi]! >= gateMin) {
    for (let k = 1; k < sizes.length; k++) {
      if (minComp > 1 && sizes[k]! < minComp) continue;
      predicted += sizes[k]!;
      intersection += overlaps[k]!;
    }
  }
  return { predicted, truth: e.truthPixels, intersection };
}

/** Per-slice Dice with the Kaggle rule for empties (both empty → 1). */
function sliceDice(o: Outcome): number {
  return o.predicted + o.truth === 0 ? 1 : (2 * o.intersection) / (o.predicted + o.truth);
}

export interface OrganScore {
  /** Dice pooled over all slices (Σ 2|P∩T| / Σ (|P|+|T|)); null when the organ is nowhere. */
  dice: number | null;
  /** Mean per-slice Dice, empty-and-nothing-predicted counting 1 (the Kaggle score). */
  sliceDice: number;
  /** Share of slices without the organ on which nothing was predicted; null when there are none. */
  correctEmpty: number | null;
  emptySlices: number;
  slices: number;
}

export interface Score {
  organs: Record<Organ, OrganScore>;
  /** Mean of the organs' pooled Dice (organs with a Dice only). */
  meanDice: number | null;
  /** Mean of the organs' per-slice Dice. */
  meanSliceDice: number;
}

function organScore(outcomes: Outcome[]): OrganScore {
  let inter = 0;
  let sum = 0;
  let empty = 0;
  let correct = 0;
  let slice = 0;
  for (const o of outcomes) {
    inter += o.intersection;
    sum += o.predicted + o.truth;
    slice += sliceDice(o);
    if (o.truth === 0) {
      empty++;
      if (o.predicted === 0) correct++;
    }
  }
  return {
    dice: sum === 0 ? null : (2 * inter) / sum,
    sliceDice: outcomes.length ? slice / outcomes.length : 1,
    correctEmpty: empty ? correct / empty : null,
    emptySlices: empty,
    slices: outcomes.length,
  };
}

function combine(organs: Record<Organ, OrganScore>): Score {
  const dices = ORGANS.map((o) => organs[o].dice).filter((d): d is number => d !== null);
  return {
    organs,
    meanDice: dices.length ? dices.reduce((a, b) => a + b, 0) / dices.length : null,
    meanSliceDice: ORGANS.reduce((s, o) => s + organs[o].sliceDice, 0) / ORGANS.length,
  };
}

/** Holds the reduced evidence of a set of held-out slices; tunes and scores post-processing on them. */
export class HeldOutSet {
  private readonly evidence: Array<{ patientId: string; organs: Record<Organ, Evidence> }>;

  constructor(
    slices: readonly HeldOutSlice[],
    private readonly grid: TuningGrid = DEFAULT_TUNING_GRID,
  ) {
    this.evidence = slices.map((s) => ({
      patientId: s.patientId,
      organs: Object.fromEntries(ORGANS.map((o) => [o, evidenceOf(s.organs[o], grid)])) as Record<
        Organ,
        Evidence
      >,
    }));
  }

  get patients(): string[] {
    return [...new Set(this.evidence.map((e) => e.patientId))];
  }

  private indexOf(p: OrganPostprocess): [number, number] {
    const ti = this.grid.thresholds.indexOf(p.threshold);
    const gi = this.grid.gateThresholds.indexOf(p.gateThreshold);
    if (ti < 0 || gi < 0) {
      throw new RangeError(
        `threshold ${p.threshold} / gate ${p.gateThreshold} are not in the tuning grid (add them to score it)`,
      );
    }
    return [ti, gi];
  }

  /** Score given post-processing on the slices of `patients` (default all). */
  score(post: Record<Organ, OrganPostprocess>, patients?: readonly string[]): Score {
    const chosen = this.evidence.filter((e) => !patients || patients.includes(e.patientId));
    const organs = Object.fromEntries(
      ORGANS.map((o) => {
        const [ti, gi] = this.indexOf(post[o]);
        const p = post[o];
        return [
          o,
          organScore(
            chosen.map((e) => outcomeOf(e.organs[o], ti, gi, p.gateMinPixels, p.minComponentPixels)),
          ),
        ];
      }),
    ) as Record<Organ, OrganScore>;
    return combine(organs);
  }

  /**
   * The grid setting per organ with the best mean per-slice Dice on the slices of `patients` (default
   * all). Ties keep the earlier setting in grid order (lower threshold, weaker gate, fewer removals).
   */
  tune(
    patients?: readonly string[],
    base: OrganPostprocess = BASE_POSTPROCESS,
  ): Record<Organ, OrganPostprocess> {
    const chosen = this.evidence.filter((e) => !patients || patients.includes(e.patientId));
    const g = this.grid;
    const out = {} as Record<Organ, OrganPostprocess>;
    for (const organ of ORGANS) {
      let best = -1;
      let setting: OrganPostprocess = base;
      g.thresholds.forEach((threshold, ti) =>
        g.gateThresholds.forEach((gateThreshold, gi) =>
          g.gateMinPixels.forEach((gateMinPixels) =>
            g.minComponentPixels.forEach((minComponentPixels) => {
              let sum = 0;
              for (const e of chosen) {
                sum += sliceDice(outcomeOf(e.organs[organ], ti, gi, gateMinPixels, minComponentPixels));
              }
              const value = chosen.length ? sum / chosen.length : 0;
              if (value > best + 1e-9) {
                best = value;
                setting = { ...base, threshold, gateThreshold, gateMinPixels, minComponentPixels };
              }
            }),
          ),
        ),
      );
      out[organ] = setting;
    }
    return out;
  }

  /**
   * Honest score of tuned post-processing: each patient is scored with settings tuned on the OTHER
   * patients' held-out predictions only. Returns the pooled score and each patient's settings.
   */
  nestedScore(): { score: Score; settings: Record<string, Record<Organ, OrganPostprocess>> } {
    const settings: Record<string, Record<Organ, OrganPostprocess>> = {};
    const outcomes = Object.fromEntries(ORGANS.map((o) => [o, [] as Outcome[]])) as Record<Organ, Outcome[]>;
    for (const patient of this.patients) {
      const post = this.tune(this.patients.filter((p) => p !== patient));
      settings[patient] = post;
      for (const e of this.evidence.filter((x) => x.patientId === patient)) {
        for (const o of ORGANS) {
          const [ti, gi] = this.indexOf(post[o]);
          outcomes[o].push(outcomeOf(e.organs[o], ti, gi, post[o].gateMinPixels, post[o].minComponentPixels));
        }
      }
    }
    const organs = Object.fromEntries(ORGANS.map((o) => [o, organScore(outcomes[o])])) as Record<
      Organ,
      OrganScore
    >;
    return { score: combine(organs), settings };
  }
}

/** Plain thresholding (0.5), no gate, no component removal: the untuned reference. */
export const BASE_POSTPROCESS: OrganPostprocess = {
  threshold: 0.5,
  gateThreshold: 0.5,
  gateMinPixels: 0,
  minComponentPixels: 0,
};
