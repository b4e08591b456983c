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
  return {
    id: g.scanId,
    width: first.width,
    height: first.height,
    slices: g.slices.map(({ index, slice }) => {
      const gt: SliceMasks = {};
      const pred: SliceMasks = {};
      const position = slicePosition(g.place.slices[index]!.number, count);
      for (const organ of ORGANS) {
        const o = slice.organs[organ];
        if (o.truth) gt[organ] = { width: o.width, height: o.height, data: o.truth };
        const r = postprocessOrgan(o.prob, o.width, o.height, post[organ], g.place.pixelSpacing);
        if (r.mask && (!prior || priorAllows(prior, organ, position))) pred[organ] = r.mask;
      }
      return { id: slice.sliceId, gt, pred };
    }),
  };
}

function scoreGroups(
  groups: readonly ScanGroup[],
  postFor: PostprocessFor,
  priorFor: (patientId: string) => SlicePrior | null,
): WholeScanReport {
  const pooled = new SegmentationScorer();
  const perScan: ScanScore[] = [];
  for (const g of groups) {
    const scan = scoredScan(g, postFor(g.patientId), priorFor(g.patientId));
    pooled.addScan(scan);
    const alone = new SegmentationScorer();
    alone.addScan(scan);
    perScan.push({
      scanId: g.scanId,
      patientId: g.patientId,
      slices: g.slices.length,
      score: alone.result(),
    });
  }
  return { pooled: pooled.result(), perScan };
}

/** Whole-scan scores of held-out slices with the given post-processing per patient, no position prior. */
export function scoreHeldOutScans(
  slices: readonly HeldOutSlice[],
  placeOf: (sliceId: string) => SlicePlace | undefined,
  postFor: PostprocessFor,
): WholeScanReport {
  return scoreGroups(groupByScan(slices, placeOf), postFor, () => null);
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
  const groups = groupByScan(slices, placeOf);
  const priorOf = (c: ScanSetting): SlicePrior | null => (prior ? { ...prior, minPrior: c.minPrior } : null);
  const pick = (patients: readonly string[]): number => {
    let best = 0;
    let bestScore = -Infinity;
    candidates.forEach((c, k) => {
      const scans = groups.filter((g) => patients.includes(g.patientId));
      const s =
        scoreGroups(
          scans,
          () => c.post,
          () => priorOf(c),
        ).pooled.competition.score ?? -Infinity;
      if (s > bestScore + 1e-9) {
        bestScore = s;
        best = k;
      }
    });
    return best;
  };
  const patients = [...new Set(groups.map((g) => g.patientId))];
  const choice = Object.fromEntries(patients.map((p) => [p, pick(patients.filter((q) => q !== p))]));
  const report = scoreGroups(
    groups,
    (p) => candidates[choice[p] ?? 0]!.post,
    (p) => priorOf(candidates[choice[p] ?? 0]!),
  );
  return {
    report,
    chosen: Object.fromEntries(patients.map((p) => [p, candidates[choice[p]!]!.label])),
    best: candidates[pick(patients)]!,
  };
}

/** Thresholds of the position prior tried by `scoreWithSlicePrior`. */
export const MIN_PRIOR_GRID = [0, 0.005, 0.01, 0.02, 0.05, 0.1];

/**
 * Whole-scan scores with the position prior, its threshold chosen per patient on the OTHER patients'
 * scans only (nested, like the post-processing), so no patient is scored with a setting tuned on itself.
 * Returns the report and the threshold tuned on all patients (what a shipped card should carry).
 */
export function scoreWithSlicePrior(
  slices: readonly HeldOutSlice[],
  placeOf: (sliceId: string) => SlicePlace | undefined,
  postFor: PostprocessFor,
  prior: SlicePrior,
  grid: readonly number[] = MIN_PRIOR_GRID,
): { report: WholeScanReport; minPrior: number } {
  const groups = groupByScan(slices, placeOf);
  const withMin = (m: number): SlicePrior => ({ ...prior, minPrior: m });
  const best = (patients: readonly string[]): number => {
    const chosen = groups.filter((g) => patients.includes(g.patientId));
    let bestScore = -Infinity;
    let bestMin = 0;
    for (const m of grid) {
      const s = scoreGroups(chosen, postFor, () => withMin(m)).pooled.score ?? -Infinity;
      if (s > bestScore + 1e-9) {
        bestScore = s;
        bestMin = m;
      }
    }
    return bestMin;
  };
  const patients = [...new Set(groups.map((g) => g.patientId))];
  const minPrior = Object.fromEntries(
    patients.map((p) => [p, best(patients.filter((q) => q !== p))]),
  ) as Record<string, number>;
  const report = scoreGroups(groups, postFor, (p) => withMin(minPrior[p] ?? 0));
  return { report: { ...report, minPrior }, minPrior: best(patients) };
}
