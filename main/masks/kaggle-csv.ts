/**
 * The Kaggle UW-Madison CSV files as pure text ↔ rows:
 * - long format `id,class,segmentation` (train.csv) and `id,class,predicted` (submissions): one row per
 *   slice and organ, empty RLE = organ absent;
 * - wide format `id,large_bowel,small_bowel,stomach,…,width,height,…` (eval_subset.csv): one row per slice.
 * RLE text is checked for shape here (integer pairs) so errors name the line; decoding needs the slice size.
 */
import { InputError } from '../core/errors';
import { parseSliceId } from '../core/ids';
import { ORGANS, isOrgan, type Organ } from '../core/organs';
import { csvField, parseCsvRows, type CsvRow } from './csv-text';
import { clip } from './kaggle-rle';

export interface KaggleMaskRow {
  id: string;
  organ: Organ;
  /** Kaggle RLE; '' when the organ is absent on the slice. */
  rle: string;
}

export interface WideMaskRow {
  id: string;
  width: number;
  height: number;
  /** Only the organs present on the slice. */
  rles: Partial<Record<Organ, string>>;
}

export type KaggleRleColumn = 'segmentation' | 'predicted';

export function parseTrainCsv(text: string, where: string): KaggleMaskRow[] {
  return parseLongCsv(text, where, 'segmentation');
}

export function parseSubmissionCsv(text: string, where: string): KaggleMaskRow[] {
  return parseLongCsv(text, where, 'predicted');
}

function parseLongCsv(text: string, where: string, rleColumn: KaggleRleColumn): KaggleMaskRow[] {
  const [header, ...rows] = parseCsvRows(text, where);
  const col = columnIndex(header, ['id', 'class', rleColumn], where);
  const seen = new Set<string>();
  return rows.map((row) => {
    const at = `${where}:${row.line}`;
    const id = checkId(cell(row, col.id!, at), at);
    const organ = cell(row, col.class!, at).trim();
    if (!isOrgan(organ)) {
      throw new InputError(at, `class '${clip(organ)}' is not one of ${ORGANS.join(', ')}`);
    }
    const key = `${id} ${organ}`;
    if (seen.has(key)) throw new InputError(at, `${id} ${organ} appears a second time`);
    seen.add(key);
    return { id, organ, rle: checkRleShape(cell(row, col[rleColumn]!, at), at) };
  });
}

export function parseWideMaskCsv(text: string, where: string): WideMaskRow[] {
  const [header, ...rows] = parseCsvRows(text, where);
  const col = columnIndex(header, ['id', ...ORGANS, 'width', 'height'], where);
  const seen = new Set<string>();
  return rows.map((row) => {
    const at = `${where}:${row.line}`;
    const id = checkId(cell(row, col.id!, at), at);
    if (seen.has(id)) throw new InputError(at, `slice ${id} appears a second time`);
    seen.add(id);
    const width = checkSizeCell(cell(row, col.width!, at), 'width', at);
    const height = checkSizeCell(cell(row, col.height!, at), 'height', at);
    const rles: Partial<Record<Organ, string>> = {};
    for (const organ of ORGANS) {
      const rle = checkRleShape(cell(row, col[organ]!, at), `${at} (${organ})`);
      if (rle !== '') rles[organ] = rle;
    }
    return { id, width, height, rles };
  });
}

/**
 * Long-format CSV text, one row per slice and organ with the organs in ORGANS order (an organ without a row
 * is written with an empty RLE, as Kaggle expects every slice × class). Slices keep their first-seen order.
 */
export function formatKaggleCsv(rows: readonly KaggleMaskRow[], column: KaggleRleColumn): string {
  const bySlice = new Map<string, Partial<Record<Organ, string>>>();
  for (const row of rows) {
    const entry = bySlice.get(row.id) ?? {};
    entry[row.organ] = row.rle;
    bySlice.set(row.id, entry);
  }
  const lines = [`id,class,${column}`];
  for (const [id, rles] of bySlice) {
    for (const organ of ORGANS) lines.push(`${csvField(id)},${organ},${csvField(rles[organ] ?? '')}`);
  }
  return `${lines.join('\n')}\n`;
}

function columnIndex(header: CsvRow | undefined, required: string[], where: string): Record<string, number> {
  if (!header) throw new InputError(where, `empty file; expected a header with ${required.join(',')}`);
  const names = header.fields.map((f) => f.trim());
  const index: Record<string, number> = {};
  for (const name of required) {
    const i = names.indexOf(name);
    if (i < 0) {
      throw new InputError(
        `${where}:${header.line}`,
        `header '${clip(names.join(','), 120)}' lacks column '${name}' (needs ${required.join(',')})`,
      );
    }
    index[name] = i;
  }
  return index;
}

function cell(row: CsvRow, index: number, at: string): string {
  const value = row.fields[index];
  if (value === undefined) {
    throw new InputError(at, `row has ${row.fields.length} fields; expected at least ${index + 1}`);
  }
  return value;
}

function checkId(raw: string, at: string): string {
  const id = raw.trim();
  if (!parseSliceId(id))
    throw new InputError(at, `id '${clip(id)}' is not of the form caseN_dayD_slice_NNNN`);
  return id;
}

function checkSizeCell(raw: string, what: string, at: string): number {
  const value = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new InputError(at, `${what} '${clip(raw)}' is not a positive integer`);
  }
  return value;
}

const RLE_SHAPE = /^\d+(\s+\d+)*$/;

function checkRleShape(raw: string, at: string): string {
  const rle = raw.trim();
  if (rle === '') return '';
  if (!RLE_SHAPE.test(rle)) throw new InputError(at, `RLE '${clip(rle)}' has something other than integers`);
  if (rle.split(/\s+/).length % 2 !== 0) throw new InputError(at, 'RLE has an odd number of values');
  return rle;
}
