/** Turn a fine-tune's epoch history into the series the training charts draw (pure, so it is testable). */
import { ORGANS, type Organ } from '../../main/core/organs';
import type { ModelInfo, TrainEpoch } from '../../preload/api';

export interface TrainCurves {
  labels: string[];
  loss: number[];
  /** null where an epoch had no validation (chart.js leaves a gap). */
  valLoss: Array<number | null>;
  dice: Record<Organ, Array<number | null>>;
  /** True when at least one epoch carries a validation Dice. */
  hasValidation: boolean;
}

export function trainCurves(history: readonly TrainEpoch[]): TrainCurves {
  const sorted = [...history].sort((a, b) => a.epoch - b.epoch);
  const dice = Object.fromEntries(
    ORGANS.map((o) => [o, sorted.map((e) => e.valDice?.[o] ?? null)]),
  ) as Record<Organ, Array<number | null>>;
  return {
    labels: sorted.map((e) => String(e.epoch)),
    loss: sorted.map((e) => e.loss),
    valLoss: sorted.map((e) => e.valLoss),
    dice,
    hasValidation: sorted.some((e) => e.valDice !== null),
  };
}

/** The epoch whose weights the run keeps (the last one marked best), or null. */
export function bestEpoch(history: readonly TrainEpoch[]): TrainEpoch | null {
  return [...history].reverse().find((e) => e.best) ?? null;
}

/** A registry id without its registration stamp: `20260101-120000-fine-tune-demo` → `fine-tune-demo`. */
export function modelName(id: string): string {
  return id.replace(/^\d{8}-\d{6}(?:-\d+)?-/, '') || id;
}

/** What the model list calls a model: a fine-tune made in the app by its date and data, others by id. */
export function modelTitle(m: Pick<ModelInfo, 'id' | 'note'>): string {
  return m.note?.startsWith('fine-tune ') ? m.note : modelName(m.id);
}

/** `2026-01-01T12:00:00Z` → `2026-01-01 12:00` (the registry stamps ids in UTC); '' when unknown. */
export function modelDate(createdAt: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(createdAt);
  return m ? `${m[1]} ${m[2]}` : '';
}
