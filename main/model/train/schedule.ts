/**
 * Learning-rate schedules, per epoch. `plateau` halves the rate when the loss stops falling (reactive,
 * good when a validation set exists); `cosine` decays from the base rate to the floor over the planned
 * epochs — the schedule fixed-budget runs (cross-validation, shipped-model training) want, because it
 * needs no validation data and ends on small steps.
 */
export type LrSchedule = 'plateau' | 'cosine';

export const LR_SCHEDULES: readonly LrSchedule[] = ['plateau', 'cosine'];

/** Cosine-annealed rate for a 1-based epoch of `epochs`: `base` in epoch 1, near `floor` in the last. */
export function cosineLearningRate(base: number, floor: number, epoch: number, epochs: number): number {
  if (epochs <= 1) return base;
  const t = Math.min(1, Math.max(0, (epoch - 1) / (epochs - 1)));
  // Written from the base down so that epoch 1 is exactly the base rate.
  return base - 0.5 * (base - floor) * (1 - Math.cos(Math.PI * t));
}
