/**
 * Real organ label maps grouped into scans: the rows of a wide mask CSV (eval_subset.csv) become one
 * stack per `caseN_dayD`, keyed by slice number, so a generator can look up the neighbours of a slice.
 */
import { InputError } from '../core/errors';
import { parseSliceId } from '../core/ids';
import { ORGANS } from '../core/organs';
import type { SliceMasks } from '../core/types';
import { readTextOrExplain } from '../io/files';
import { parseWideMaskCsv, type WideMaskRow } from '../masks/kaggle-csv';
import { decodeKaggleRle } from '../masks/kaggle-rle';

export interface LabelScan {
  scanId: string;
  patientId: string;
  width: number;
  height: number;
  /** Slice number → organ masks; slices not listed have no organ. */
  slices: Map<number, SliceMasks>;
  /** Listed slice numbers, ascending. */
  numbers: number[];
}

/** Group decoded rows by scan; every slice of one scan must have the same size. */
export function groupLabelRows(rows: readonly WideMaskRow[], where: string): LabelScan[] {
  const scans = new Map<string, LabelScan>();
  for (const row of rows) {
    const key = parseSliceId(row.id);
    if (!key) throw new InputError(`${where} (${row.id})`, 'id is not of the form caseN_dayD_slice_NNNN');
    let scan = scans.get(key.scanId);
    if (!scan) {
      scan = {
        scanId: key.scanId,
        patientId: key.patientId,
        width: row.width,
        height: row.height,
        slices: new Map(),
        numbers: [],
      };
      scans.set(key.scanId, scan);
    }
    if (row.width !== scan.width || row.height !== scan.height) {
      throw new InputError(
        `${where} (${row.id})`,
        `slice is ${row.width}×${row.height} but earlier slices of ${key.scanId} are ${scan.width}×${scan.height}`,
      );
    }
    const masks: SliceMasks = {};
    for (const organ of ORGANS) {
      const rle = row.rles[organ];
      if (rle === undefined) continue;
      const data = decodeKaggleRle(rle, row.width, row.height, `${where} (${row.id}, ${organ})`);
      masks[organ] = { width: row.width, height: row.height, data };
    }
    scan.slices.set(key.sliceNumber, masks);
  }
  const out = [...scans.values()];
  for (const s of out) s.numbers = [...s.slices.keys()].sort((a, b) => a - b);
  return out.sort((a, b) => (a.scanId < b.scanId ? -1 : a.scanId > b.scanId ? 1 : 0));
}

/** Parse wide-format CSV text into scans. */
export function parseLabelScans(text: string, where: string): LabelScan[] {
  const scans = groupLabelRows(parseWideMaskCsv(text, where), where);
  if (scans.length === 0) throw new InputError(where, 'no labelled slices in the file');
  return scans;
}

export async function readLabelScans(file: string): Promise<LabelScan[]> {
  return parseLabelScans(await readTextOrExplain(file), file);
}

export interface LabelScanSelection {
  /** Patients (caseN) whose scans are left out, e.g. every patient of a validation or test set. */
  exclude?: readonly string[];
  /** At most this many scans per patient (the first by scan id): more patients per rendered slice. */
  perPatient?: number;
}

/** The scans a generator may use: excluded patients dropped, at most `perPatient` scans of each other. */
export function selectLabelScans(scans: readonly LabelScan[], sel: LabelScanSelection): LabelScan[] {
  const excluded = new Set(sel.exclude ?? []);
  const taken = new Map<string, number>();
  return scans.filter((s) => {
    if (excluded.has(s.patientId)) return false;
    const n = taken.get(s.patientId) ?? 0;
    if (sel.perPatient !== undefined && n >= sel.perPatient) return false;
    taken.set(s.patientId, n + 1);
    return true;
  });
}
