/**
 * Patient-wise validation split: every slice of a patient goes to the same side, so validation
 * figures measure generalisation to new patients, not to neighbouring slices of a seen one.
 */
import { InputError } from '../../core/errors';
import { createRng } from '../augment/random';

/** `--val`: explicit patient ids ("case101,case107") or a fraction of patients ("0.2"). */
export type ValSpec = { kind: 'patients'; ids: string[] } | { kind: 'fraction'; fraction: number };

export function parseValSpec(text: string): ValSpec {
  const t = text.trim();
  if (/^\d*\.?\d+$/.test(t)) {
    const fraction = Number(t);
    if (!(fraction >= 0 && fraction < 1)) {
      throw new InputError('--val', `fraction must be in [0, 1), got ${t}`);
    }
    return { kind: 'fraction', fraction };
  }
  const ids = t
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (ids.length === 0)
    throw new InputError('--val', 'expected patient ids (case101,case107) or a fraction (0.2)');
  return { kind: 'patients', ids };
}

export interface PatientSplit {
  train: string[];
  val: string[];
}

/**
 * Split patient ids. A fraction takes round(fraction × n) patients (at least one when the fraction is
 * above 0 and there are two or more patients; never all of them), chosen by a seeded shuffle.
 */
export function splitPatients(patientIds: readonly string[], spec: ValSpec, seed: number): PatientSplit {
  const all = [...new Set(patientIds)].sort();
  if (spec.kind === 'patients') {
    const unknown = spec.ids.filter((id) => !all.includes(id));
    if (unknown.length) {
      throw new InputError(
        '--val',
        `patients not in the training data: ${unknown.join(', ')} (have ${all.join(', ')})`,
      );
    }
    const val = all.filter((id) => spec.ids.includes(id));
    const train = all.filter((id) => !spec.ids.includes(id));
    if (train.length === 0)
      throw new InputError('--val', 'every patient is in validation; none left to train on');
    return { train, val };
  }
  let nVal = Math.round(spec.fraction * all.length);
  if (spec.fraction > 0 && all.length >= 2) nVal = Math.max(1, nVal);
  nVal = Math.min(nVal, all.length - 1);
  const rng = createRng(seed);
  const shuffled = [...all];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const val = new Set(shuffled.slice(0, Math.max(0, nVal)));
  return { train: all.filter((id) => !val.has(id)), val: all.filter((id) => val.has(id)) };
}
