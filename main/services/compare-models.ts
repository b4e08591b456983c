/**
 * Current model vs fine-tuned candidate on the same held-out slices: both segment the held-out patients'
 * scans the way `segment` does (whole scan, real neighbours, post-processing), and each model's Dice per
 * organ is the mean over the held-out reviewed slices of the per-slice Dice against the clinician's
 * masks. Activation is recommended only when the candidate's mean Dice is higher.
 */
import { ORGANS, type Organ } from '../core/organs';
import type { Scan, SliceMasks } from '../core/types';
import { diceOf, overlapCounts } from '../metrics/dice';
import { segmentScan } from '../model/infer';
import { loadModel } from '../model/model-io';
import type { ModelComparison, ModelScore } from '../../preload/api';

export type { ModelComparison, ModelScore } from '../../preload/api';

export interface HeldOutSlice {
  scan: Scan;
  sliceIndex: number;
  masks: SliceMasks;
}

/** Dice of predicted vs reference masks on each held-out slice, averaged per organ (pure). */
export function scoreSlices(
  model: string,
  pairs: ReadonlyArray<{ predicted: SliceMasks; reference: SliceMasks }>,
): ModelScore {
  const dice = {} as Record<Organ, number | null>;
  for (const organ of ORGANS) {
    const values = pairs
      .map((p) => diceOf(overlapCounts(p.predicted[organ]?.data, p.reference[organ]?.data)))
      .filter((d): d is number => d !== null);
    dice[organ] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
  const defined = ORGANS.map((o) => dice[o]).filter((d): d is number => d !== null);
  return { model, dice, mean: defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : null };
}

export function recommendCandidate(current: ModelScore, candidate: ModelScore): boolean {
  return candidate.mean !== null && (current.mean === null || candidate.mean > current.mean);
}

async function scoreModel(
  model: { id: string; dir: string },
  heldOut: readonly HeldOutSlice[],
  signal?: AbortSignal,
): Promise<ModelScore> {
  const loaded = await loadModel(model.dir);
  try {
    const pairs: Array<{ predicted: SliceMasks; reference: SliceMasks }> = [];
    for (const scan of new Set(heldOut.map((h) => h.scan))) {
      const result = await segmentScan(scan, loaded, signal ? { signal } : {});
      for (const h of heldOut.filter((x) => x.scan === scan)) {
        pairs.push({ predicted: result.slices[h.sliceIndex]?.masks ?? {}, reference: h.masks });
      }
    }
    return scoreSlices(model.id, pairs);
  } finally {
    loaded.model.dispose();
  }
}

/** Score both models on the held-out slices; null when there are none (a single patient). */
export async function compareOnHeldOut(
  heldOut: readonly HeldOutSlice[],
  current: { id: string; dir: string },
  candidate: { id: string; dir: string },
  signal?: AbortSignal,
): Promise<ModelComparison | null> {
  if (heldOut.length === 0) return null;
  const a = await scoreModel(current, heldOut, signal);
  const b = await scoreModel(candidate, heldOut, signal);
  return {
    slices: heldOut.length,
    patients: [...new Set(heldOut.map((h) => h.scan.patientId))].sort(),
    current: a,
    candidate: b,
    recommend: recommendCandidate(a, b),
  };
}
