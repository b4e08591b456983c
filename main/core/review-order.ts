/**
 * Which slices a clinician should look at first after a model run: the ones the model was least sure of
 * (per-slice uncertainty, see main/model/uncertainty). Pure, so `tractus segment` (summary.json) and the
 * workstation's review panel order slices the same way.
 */

/** Slices in a scan's "review first" list. */
export const REVIEW_FIRST_COUNT = 10;

export interface SliceUncertainty {
  id: string;
  /** 0 (crisp) … 1. */
  uncertainty: number;
  /** Whether any organ is predicted on the slice. */
  hasOrgan: boolean;
}

/**
 * Ids of the `limit` most uncertain slices, most uncertain first. Only slices with an organ predicted or an
 * uncertainty above 0 qualify: an empty slice with crisp (all-zero) maps has nothing to review. Ties keep
 * the slices' given order, so the list is stable from run to run.
 */
export function reviewFirst(slices: readonly SliceUncertainty[], limit = REVIEW_FIRST_COUNT): string[] {
  return slices
    .map((s, order) => ({ ...s, order }))
    .filter((s) => s.hasOrgan || s.uncertainty > 0)
    .sort((a, b) => b.uncertainty - a.uncertainty || a.order - b.order)
    .slice(0, Math.max(0, limit))
    .map((s) => s.id);
}
