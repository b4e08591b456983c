/**
 * Option parsers shared by the CLI commands. Commander turns an InvalidArgumentError into
 * "option '--flag <x>' argument 'value' is invalid. <message>", so the flag is always named; runCli prints
 * it as one line with exit code 2, the same as an InputError.
 */
import { InvalidArgumentError } from 'commander';
import type { BackendPreference } from '../model/backend/select';
import { KEEP_EPOCHS, LR_SCHEDULES, type KeepEpoch, type LrSchedule } from '../model/train/schedule';

/** A whole number ≥ min. */
export function wholeNumber(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return n;
  };
}

export function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a positive number');
  return n;
}

/** A fraction in (0, 1]. */
export function share(v: string): number {
  const n = Number(v);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('expected a number in (0, 1]');
  return n;
}

/** One of `values`, by name; the message lists them joined by `joiner`. */
export function oneOf<T extends string>(values: readonly T[], joiner: string): (v: string) => T {
  return (v) => {
    if (!(values as readonly string[]).includes(v)) {
      throw new InvalidArgumentError(`expected ${values.join(joiner)}`);
    }
    return v as T;
  };
}

const BACKENDS: readonly BackendPreference[] = ['auto', 'tensorflow', 'wasm', 'cpu'];

export const backendName = oneOf(BACKENDS, ', ');
export const lrScheduleOf = oneOf<LrSchedule>(LR_SCHEDULES, ' or ');
export const keepEpochOf = oneOf<KeepEpoch>(KEEP_EPOCHS, ' or ');

/** Comma-separated patient ids such as "case30,case47"; each must be caseN. */
export function patientList(v: string): string[] {
  const ids = v
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const bad = ids.find((p) => !/^case\d+$/.test(p));
  if (ids.length === 0 || bad !== undefined) {
    throw new InvalidArgumentError(
      `expected patient ids such as "case30,case47"${bad ? `, got "${bad}"` : ''}`,
    );
  }
  return ids;
}
