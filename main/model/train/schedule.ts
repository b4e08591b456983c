/**
 * Learning-rate schedules. `plateau` halves the rate when the loss stops falling (reactive, good when a
 * validation set exists); `cosine` decays from the base rate to the floor over the planned epochs — the
 * schedule fixed-budget runs (cross-validation, shipped-model training) want, because it needs no
 * validation data and ends on small steps. Per epoch, its last epoch runs entirely at the floor, so 1/E of
 * the steps learn almost nothing; `cosine-step` decays per optimiser step over the whole run instead, so
 * every step learns. `cosine` stays for reproducing the recipes that used it.
 */
export type LrSchedule = 'plateau' | 'cosine' | 'cosine-step';

export const LR_SCHEDULES: readonly LrSchedule[] = ['plateau', 'cosine', 'cosine-step'];

/**
 * Which epoch's weights a run keeps. `best`: the best validation mean Dice, or without validation data the
 * lowest training loss — a noisy pick over 100-step epochs of augmented draws (recipe K kept epoch 4 of 6).
 * `last`: the weights at the end of the schedule, what a fixed-budget (cosine) recipe means.
 */
export type KeepEpoch = 'best' | 'last';

export const KEEP_EPOCHS: readonly KeepEpoch[] = ['best', 'last'];

/** Cosine-annealed rate at fraction `t` (0…1) of a run: `base` at 0, `floor` at 1. */
export function cosineAt(base: number, floor: number, t: number): number {
  const u = Math.min(1, Math.max(0, t));
  // Written from the base down so that t = 0 is exactly the base rate.
  return base - 0.5 * (base - floor) * (1 - Math.cos(Math.PI * u));
}

/** Cosine-annealed rate for a 1-based epoch of `epochs`: `base` in epoch 1, `floor` in the last. */
export function cosineLearningRate(base: number, floor: number, epoch: number, epochs: number): number {
  return epochs <= 1 ? base : cosineAt(base, floor, (epoch - 1) / (epochs - 1));
}

/** Per-step cosine: the rate of 0-based step `step` of `steps` in the whole run; the last step is above the floor. */
export function cosineStepLearningRate(base: number, floor: number, step: number, steps: number): number {
  return steps <= 1 ? base : cosineAt(base, floor, step / steps);
}
