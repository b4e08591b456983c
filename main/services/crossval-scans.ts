/**
 * The competition score of cross-validation on whole scans: held-out probability maps of every slice of a
 * scan are post-processed exactly as `segment` would (threshold, gate, components, optional slice-position
 * prior) and scored as `evaluate` does — Dice per (slice, organ) with empties counting 1, normalised 3-D
 * Hausdorff per (scan, organ), score = 0.4 · Dice + 0.6 · (1 − Hausdorff) — plus, per organ, the Dice over
 * the slices where the organ is present or predicted.
 */
import { ORGANS, type Organ } from '../core/organs';
import type { ScanInfo, SliceMasks } from '../core/types';
import { SegmentationScorer, type ScoredScan, type SegmentationScore } from '../metrics/segmentation-score';
import { postprocessOrgan, type OrganPostprocess } from '../model/postprocess';
import { cleanScanVolumes, consecutiveSlices } from '../model/volume-components';
import { priorAllows, scanSliceCount, slicePosition, type SlicePrior } from '../model/slice-prior';
import type { HeldOutSlice } from './crossval-score';

/** Where a held-out slice sits: its scan (geometry, slice list) and its index in it. */
export interface SlicePlace {
  scan: Pick<ScanInfo, 'id' | 'pixelSpacing' | 'slices'>;
  index: number;
}

export interface ScanScore {
  scanId: string;
  patientId: string;
  slices: number;
  score: SegmentationScore;
}

export interface WholeScanReport {
  /** All held-out scans pooled (as `evaluate` pools scans). */
  pooled: SegmentationScore;
  perScan: ScanScore[];
  /** The position prior's threshold each patient was scored with (absent: no prior). */
  minPrior?: Record<string, number>;
}

export type PostprocessFor = (patientId: string) => Record<Organ, OrganPostprocess>;

interface ScanGroup {
  scanId: string;
  patientId: string;
  place: SlicePlace['scan'];
  slices: Array<{ index: number; slice: HeldOutSlice }>;
}

function groupByScan(
  slices: readonly HeldOutSlice[],
  placeOf: (sliceId: string) => SlicePlace | undefined,
): ScanGroup[] {
  const groups = new Map<string, ScanGroup>();
  for (const slice of slices) {
    const place = placeOf(slice.sliceId);
    if (!place) continue;
    let g = groups.get(place.scan.id);
    if (!g) {
      g = { scanId: place.scan.id, patientId: slice.patientId, place: place.scan, slices: [] };
      groups.set(place.scan.id, g);
    }
    g.slices.push({ index: place.index, slice });
  }
  for (const g of groups.values()) g.slices.sort((a, b) => a.index - b.index);
  return [...groups.values()];
}

/** One scan's slices post-processed like `segment` does, paired with their truth. */
function scoredScan(
  g: ScanGroup,
  post: Record<Organ, OrganPostprocess>,
  prior: SlicePrior | null,
): ScoredScan {
  const first = g.slices[0]!.slice.organs[ORGANS[0]];
  const count = scanSliceCount(g.place.slices);
  const slices = g.slices.map(({ index, slice }) => {
    const gt: SliceMasks = {};
    const pred: SliceMasks = {};
    const position = slicePosition(g.place.slices[index]!.number, count);
    for (const organ of ORGANS) {
      const o = slice.organs[organ];
      if (o.truth) gt[organ] = { width: o.width, height: o.height, data: o.truth };
      if (prior && !priorAllows(prior, organ, position)) continue;
      const r = postprocessOrgan(o.prob, o.width, o.height, post[organ], g.place.pixelSpacing);
      if (r.mask) pred[organ] = r.mask;
    }
    return { id: slice.sliceId, gt, pred };
  });
  cleanScanVolumes(
    slices.map((s) => s.pred),
    consecutiveSlices(g.slices.map(({ index }) => g.place.slices[index]!.number)),
    post,
  );
  return { id: g.scanId, width: first.width, height: first.height, slices };
}

/** One scan scored alone with one setting: its own result, and a scorer that pools with others. */
interface ScoredGroup {
  group: ScanGroup;
  scorer: SegmentationScorer;
}

function scoreGroup(
  g: ScanGroup,
  post: Record<Organ, OrganPostprocess>,
  prior: SlicePrior | null,
): ScoredGroup {
  const scorer = new SegmentationScorer();
  scorer.addScan(scoredScan(g, post, prior));
  return { group: g, scorer };
}

function report(scored: readonly ScoredGroup[]): WholeScanReport {
  const pooled = new SegmentationScorer();
  for (const s of scored) pooled.merge(s.scorer);
  return {
    pooled: pooled.result(),
    perScan: scored.map(({ group: g, scorer }) => ({
      scanId: g.scanId,
      patientId: g.patientId,
      slices: g.slices.length,
      score: scorer.result(),
    })),
  };
}

/** Whole-scan scores of held-out slices with the given post-processing per patient, no position prior. */
export function scoreHeldOutScans(
  slices: readonly HeldOutSlice[],
  placeOf: (sliceId: string) => SlicePlace | undefined,
  postFor: PostprocessFor,
): WholeScanReport {
  return report(groupByScan(slices, placeOf).map((g) => scoreGroup(g, postFor(g.patientId), null)));
}

interface Candidate {
  postFor: PostprocessFor;
  prior: SlicePrior | null;
}

/**
 * The nested choice both searches below make: each patient is scored with the candidate whose pooled
 * `objective` is best on the OTHER patients' scans (ties: the earlier candidate). Every (candidate, scan) is
 * post-processed and scored once; the choices pool those scores. `best` is the choice on all patients.
 */
function nestedChoice(
  groups: readonly ScanGroup[],
  candidates: readonly Candidate[],
  objective: (s: SegmentationScore) => number | null,
): { report: WholeScanReport; choice: Record<string, number>; best: number } {
  const scored = candidates.map((c) => groups.map((g) => scoreGroup(g, c.postFor(g.patientId), c.prior)));
  const pick = (patients: readonly string[]): number => {
    let best = 0;
    let bestValue = -Infinity;
    scored.forEach((perGroup, k) => {
      const pooled = new SegmentationScorer();
      for (const s of perGroup) if (patients.includes(s.group.patientId)) pooled.merge(s.scorer);
      const value = objective(pooled.result()) ?? -Infinity;
      if (value > bestValue + 1e-9) {
        bestValue = value;
        best = k;
      }
    });
    return best;
  };
  const patients = [...new Set(groups.map((g) => g.patientId))];
  const choice = Object.fromEntries(patients.map((p) => [p, pick(patients.filter((q) => q !== p))]));
  return {
    report: report(groups.map((g, i) => scored[choice[g.patientId]!]![i]!)),
    choice,
    best: pick(patients),
  };
}

/** One candidate of a nested whole-scan choice: post-processing for every patient and a prior threshold. */
export interface ScanSetting {
  label: string;
  post: Record<Organ, OrganPostprocess>;
  minPrior: number;
}

/**
 * Whole-scan scores with a setting chosen per patient, by the pooled competition score of the OTHER
 * patients' scans (nested). Returns the report, each patient's choice, and the choice on all patients.
 */
export function scoreNestedChoice(
  slices: readonly HeldOutSlice[],
  placeOf: (sliceId: string) => SlicePlace | undefined,
  candidates: readonly ScanSetting[],
  prior: SlicePrior | null,
): { report: WholeScanReport; chosen: Record<string, string>; best: ScanSetting } {
  const r = nestedChoice(
    groupByScan(slices, placeOf),
    candidates.map((c) => ({
      postFor: () => c.post,
      prior: prior ? { ...prior, minPrior: c.minPrior } : null,
    })),
    (s) => s.competition.score,
  );
  return {
    report: r.report,
    chosen: Object.fromEntries(Object.entries(r.choice).map(([p, k]) => [p, candidates[k]!.label])),
    best: candidates[r.best]!,
  };
}

/** Thresholds of the position prior tried by `scoreWithSlicePrior`. */
export const MIN_PRIOR_GRID = [0, 0.005, 0.01, 0.02, 0.05, 0.1];

/**
 * Whole-scan scores with the position prior, its threshold chosen per patient on the OTHER patients'
 * scans only (nested, like the post-processing), so no patient is scored with a setting tuned on itself.
 * The threshold is chosen by the competition score, as in `scoreNestedChoice`. Returns the report and the
 * threshold tuned on all patients.
 */
export function scoreWithSlicePrior(
  slices: readonly HeldOutSlice[],
  placeOf: (sliceId: string) => SlicePlace | undefined,
  postFor: PostprocessFor,
  prior: SlicePrior,
  grid: readonly number[] = MIN_PRIOR_GRID,
): { report: WholeScanReport; minPrior: number } {
  const r = nestedChoice(
    groupByScan(slices, placeOf),
    grid.map((m) => ({ postFor, prior: { ...prior, minPrior: m } })),
    (s) => s.competition.score,
  );
  const minPrior = Object.fromEntries(Object.entries(r.choice).map(([p, k]) => [p, grid[k]!]));
  return { report: { ...r.report, minPrior }, minPrior: grid[r.best]! };
}
