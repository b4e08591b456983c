/**
 * Which REAL patients each synthetic scan was made from, as its folder's synth.json records it: a
 * transplant uses one patient's images and another's label maps, a SynthSeg rendering one patient's label
 * maps, a phantom none. Cross-validation and training use it to keep a tested patient's data out of the
 * training set, so that "never a patient on both sides" also holds for derived images.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors';
import { readJsonOrExplain } from '../io/files';
import { SYNTHSEG_CASE_BASE } from './datasets';

const GENERATORS = ['tractus synth transplant', 'tractus synth synthseg', 'tractus synth phantom'];

/** `caseN_dayD` → `caseN`. */
function patientOf(scanId: unknown, where: string): string {
  const m = typeof scanId === 'string' ? /^(case\d+)_day\d+$/.exec(scanId) : null;
  if (!m) throw new InputError(where, `"${String(scanId)}" is not a scan id caseN_dayD`);
  return m[1]!;
}

/** Synthetic scan id → the real patients it derives from (empty for phantoms). */
export function derivedPatients(meta: unknown, where: string): Map<string, string[]> {
  const m = meta as { generator?: unknown; scans?: unknown };
  if (typeof m !== 'object' || m === null || !Array.isArray(m.scans)) {
    throw new InputError(where, 'is not a synth.json with a list of scans');
  }
  if (!GENERATORS.includes(String(m.generator))) {
    throw new InputError(where, `unknown generator "${String(m.generator)}"`);
  }
  const out = new Map<string, string[]>();
  for (const s of m.scans as unknown[]) {
    if (m.generator === 'tractus synth transplant') {
      const t = s as { scanId?: unknown; source?: unknown; label?: unknown };
      const from = [patientOf(t.source, where), patientOf(t.label, where)];
      out.set(String(t.scanId), [...new Set(from)]);
    } else if (m.generator === 'tractus synth synthseg') {
      // case{8000+N}_day… renders real scan caseN_day…'s label maps (datasets.ts)
      const caseNo = Number(patientOf(s, where).slice(4)) - SYNTHSEG_CASE_BASE;
      out.set(String(s), [`case${caseNo}`]);
    } else {
      out.set(String(s), []); // phantoms: no real patient in them
    }
  }
  return out;
}

/** The provenance of a synthetic folder, or undefined when `source` has no synth.json (e.g. real data). */
export async function readDerivedPatients(source: string): Promise<Map<string, string[]> | undefined> {
  const file = path.join(source, 'synth.json');
  if (!existsSync(file)) return undefined;
  return derivedPatients(await readJsonOrExplain(file), file);
}

/**
 * `extra` without the slices of scans made from any of `patients` (their images or label maps): what a
 * fold or a validation split may train on when those patients are tested.
 */
export function withoutDerivedFrom<T extends { scan: { id: string } }>(
  extra: readonly T[],
  derived: ReadonlyMap<string, readonly string[]> | undefined,
  patients: readonly string[],
): T[] {
  if (!derived) return [...extra];
  return extra.filter((e) => !derived.get(e.scan.id)?.some((p) => patients.includes(p)));
}
