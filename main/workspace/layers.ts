/**
 * Contour layers of a scan's review (pure, no file access): the dataset's own ground truth, every model
 * run, and the clinician's edits on top of one of them (the base layer). Model output never overwrites a
 * person's contour: a new run is a new layer, and making it the base sets the edits made on the old base
 * aside (shelved), to be restored when that base is chosen again.
 */
import { ORGANS } from '../core/organs';
import type { SliceMasksWire, SliceState } from '../../preload/api';
import { decodeMask } from '../../preload/wire';
import type { HistoryEntry, LayerId, ModelRun, OrganChange, ScanDocument } from './schema';

/** Model runs kept per scan (the base run is always kept); older ones are dropped first. */
export const MAX_RUNS = 5;

export function runLayer(n: number): LayerId {
  return `run:${n}`;
}

export function runOf(doc: Pick<ScanDocument, 'runs'>, layer: LayerId): ModelRun | undefined {
  const m = /^run:(\d+)$/.exec(layer);
  return m ? doc.runs.find((r) => r.n === Number(m[1])) : undefined;
}

/** A version-1/2 document kept only the latest model output, which won over ground truth: run 1 and base. */
export function runsFromLegacy(
  predictions: Record<string, SliceMasksWire> | undefined,
  history: readonly HistoryEntry[],
): Pick<ScanDocument, 'runs' | 'base'> {
  if (!predictions || Object.keys(predictions).length === 0) return { runs: [], base: 'truth' };
  const predict = history.filter((h) => h.action === 'predict').at(-1);
  return {
    runs: [{ n: 1, model: predict?.model ?? 'unknown', at: predict?.at ?? '', predictions }],
    base: 'run:1',
  };
}

/** Pixels of a wire mask (runs alternate zeros and ones, starting with zeros). */
function onePixels(wire: SliceMasksWire, organ: (typeof ORGANS)[number]): Set<number> | null {
  const m = wire[organ];
  if (!m || m.runs.length <= 1) return null;
  const out = new Set<number>();
  let at = 0;
  m.runs.forEach((run, k) => {
    if (k % 2 === 1) for (let i = 0; i < run; i++) out.add(at + i);
    at += run;
  });
  return out;
}

/** What an edit changed on each organ compared with the layer it was made on (organs it left alone omitted). */
export function organChanges(edit: SliceMasksWire, base: SliceMasksWire | undefined): OrganChange[] {
  const out: OrganChange[] = [];
  for (const organ of ORGANS) {
    // Decoding validates the runs; the sets then count pixels without a full-size array per organ.
    for (const w of [edit, base]) {
      const m = w?.[organ];
      if (m) decodeMask(m, organ);
    }
    const a = onePixels(edit, organ) ?? new Set<number>();
    const b = (base && onePixels(base, organ)) ?? new Set<number>();
    let added = 0;
    let removed = 0;
    for (const p of a) if (!b.has(p)) added++;
    for (const p of b) if (!a.has(p)) removed++;
    if (added || removed) out.push({ organ, added, removed });
  }
  return out;
}

/** Add a model run as a new layer; keeps at most MAX_RUNS, never dropping the base. Returns its layer id. */
export function addRun(doc: ScanDocument, run: Omit<ModelRun, 'n'>): LayerId {
  const n = Math.max(0, ...doc.runs.map((r) => r.n)) + 1;
  doc.runs = [...doc.runs, { ...run, n }];
  while (doc.runs.length > MAX_RUNS) {
    const drop = doc.runs.findIndex((r) => runLayer(r.n) !== doc.base);
    doc.runs = doc.runs.filter((_, k) => k !== drop);
  }
  return runLayer(n);
}

/**
 * Make `layer` the base of the working contour. Edits and review states made on the old base are shelved
 * (nothing is deleted), and the newest shelf made on `layer` comes back, so choosing the old base again
 * undoes a replacement.
 */
export function useLayer(doc: ScanDocument, layer: LayerId, at: string): void {
  if (layer === doc.base) return;
  const states: Record<string, SliceState> = {};
  for (const [id, s] of Object.entries(doc.states)) if (s !== 'auto') states[id] = s;
  const restore = doc.shelved
    .map((s, k) => [s, k] as const)
    .filter(([s]) => s.base === layer)
    .at(-1);
  const shelved = restore ? doc.shelved.filter((_, k) => k !== restore[1]) : [...doc.shelved];
  if (Object.keys(doc.edits).length > 0 || Object.keys(states).length > 0) {
    shelved.push({ at, base: doc.base, replacedBy: layer, edits: doc.edits, states });
  }
  doc.shelved = shelved;
  doc.edits = restore ? { ...restore[0].edits } : {};
  doc.states = restore ? { ...restore[0].states } : {};
  doc.base = layer;
  doc.approved = false;
}
