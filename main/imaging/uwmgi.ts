/**
 * The UW-Madison GI Tract (Kaggle) layout:
 *   <root>/train.csv                                  id,class,segmentation (or the wide eval format)
 *   <root>/train/caseN/caseN_dayD/scans/slice_NNNN_W_H_pw_ph.png   16-bit slices
 * `openUwmgi` accepts the root, the `train` folder (case folders directly under it), one case folder or
 * one case-day folder. Pixel spacing comes from the file name (pw across columns, ph down rows), slices are
 * 3 mm thick and ordered by number; scan `caseN_dayD`, patient `caseN`, day `dayD`.
 *
 * Masks: from `opts.csv`, else the first `train.csv` found in the opened folder or up to three folders
 * above it (where Kaggle puts it). They are decoded at each slice's own W×H, validated when the dataset
 * opens, and kept as RLE (decoded again on each read). CSV rows whose slice has no image are not an error:
 * one warning per case-day lists them, because a clinician may well open one case of a big CSV; rows of
 * case-days that were not opened at all are ignored when only part of the dataset was opened.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors';
import { parseSliceId, parseUwSliceFileName, sliceId } from '../core/ids';
import type { Organ } from '../core/organs';
import type { Dataset, DatasetWarning, Scan, SliceImage, SliceInfo, SliceMasks } from '../core/types';
import { readTextOrExplain } from '../io/files';
import { parseTrainCsv, parseWideMaskCsv } from '../masks/kaggle-csv';
import { decodeKaggleRle } from '../masks/kaggle-rle';
import { assembleDataset, intensityOfBitDepth, naturalCompare, pngScan } from './assemble';
import { LazyMaskMap } from './lazy-masks';
import { readPngHeader, writePng16 } from './png';

export const UW_SLICE_THICKNESS_MM = 3;

const CASE_RE = /^case\d+$/;
const CASE_DAY_RE = /^(case\d+)_(day\d+)$/;

export interface OpenUwmgiOptions {
  /** train.csv (long `id,class,segmentation`) or a wide mask CSV (`id,large_bowel,…,width,height`). */
  csv?: string;
  /** false: no masks (the CSV is neither looked for nor read). */
  masks?: boolean;
}

async function subfolders(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    throw new InputError(dir, e.code === 'ENOENT' ? 'folder not found' : `cannot list folder (${e.code})`, {
      cause: e,
    });
  });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(naturalCompare);
}

/** The case-day folders under what the user opened, and whether that was a whole dataset. */
async function findCaseDays(dir: string): Promise<{ folders: string[]; whole: boolean }> {
  const name = path.basename(dir);
  if (CASE_DAY_RE.test(name)) return { folders: [dir], whole: false };
  const inCase = async (caseDir: string) =>
    (await subfolders(caseDir)).filter((d) => CASE_DAY_RE.test(d)).map((d) => path.join(caseDir, d));
  if (CASE_RE.test(name)) return { folders: await inCase(dir), whole: false };
  const children = await subfolders(dir);
  const casesDir =
    children.includes('train') && !children.some((c) => CASE_RE.test(c)) ? path.join(dir, 'train') : dir;
  const folders: string[] = [];
  for (const c of (await subfolders(casesDir)).filter((d) => CASE_RE.test(d))) {
    folders.push(...(await inCase(path.join(casesDir, c))));
  }
  return { folders, whole: true };
}

/** True when `dir` looks like any of the accepted UW-Madison folders (used to detect the format). */
export async function looksLikeUwmgi(dir: string): Promise<boolean> {
  try {
    const { folders } = await findCaseDays(dir);
    for (const folder of folders.slice(0, 3)) {
      const scans = path.join(folder, 'scans');
      const names = await fs.readdir(scans).catch(() => [] as string[]);
      if (names.some((n) => parseUwSliceFileName(n))) return true;
    }
  } catch {
    return false;
  }
  return false;
}

async function caseDayScan(folder: string, warnings: DatasetWarning[]): Promise<Scan | undefined> {
  const [, patientId, day] = CASE_DAY_RE.exec(path.basename(folder))!;
  const scanId = `${patientId}_${day}`;
  const scansDir = path.join(folder, 'scans');
  let names: string[];
  try {
    names = await fs.readdir(scansDir);
  } catch {
    warnings.push({ where: folder, problem: 'skipped: no scans/ folder inside' });
    return undefined;
  }
  const slices: (SliceInfo & { spacing: [number, number] })[] = [];
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.png')).sort(naturalCompare)) {
    const parsed = parseUwSliceFileName(name);
    const file = path.join(scansDir, name);
    if (!parsed) {
      warnings.push({ where: file, problem: 'skipped: name is not slice_NNNN_W_H_pw_ph.png' });
      continue;
    }
    const { sliceNumber, width, height, spacingX, spacingY } = parsed;
    // pw is the spacing across columns, ph down rows; pixelSpacing is [row, column] like DICOM
    slices.push({
      id: sliceId(scanId, sliceNumber),
      number: sliceNumber,
      width,
      height,
      file,
      spacing: [spacingY, spacingX],
    });
  }
  if (slices.length === 0) {
    warnings.push({ where: scansDir, problem: 'skipped: no slice PNGs' });
    return undefined;
  }
  slices.sort((a, b) => a.number - b.number);
  for (let i = 1; i < slices.length; i++) {
    if (slices[i]!.number === slices[i - 1]!.number) {
      throw new InputError(slices[i]!.file!, `slice ${slices[i]!.number} appears twice in ${scansDir}`);
    }
  }
  const first = slices[0]!;
  const odd = slices.find((s) => s.width !== first.width || s.height !== first.height);
  if (odd) {
    throw new InputError(
      odd.file!,
      `is ${odd.width}×${odd.height} but ${first.file} is ${first.width}×${first.height}`,
    );
  }
  const header = await readPngHeader(first.file!);
  if (header.width !== first.width || header.height !== first.height) {
    throw new InputError(
      first.file!,
      `name says ${first.width}×${first.height} but the image is ${header.width}×${header.height}`,
    );
  }
  return pngScan({
    id: scanId,
    patientId: patientId!,
    studyId: scanId,
    day: day!,
    width: first.width,
    height: first.height,
    pixelSpacing: first.spacing,
    sliceThickness: UW_SLICE_THICKNESS_MM,
    sliceSpacing: UW_SLICE_THICKNESS_MM,
    intensity: intensityOfBitDepth(header.bitDepth),
    source: 'uwmgi',
    slices: slices.map(({ spacing: _spacing, ...info }) => info),
  });
}

/** train.csv in the folder or up to three levels above it. */
async function findTrainCsv(dir: string): Promise<string | undefined> {
  let at = dir;
  for (let level = 0; level <= 3; level++) {
    const candidate = path.join(at, 'train.csv');
    if (
      await fs.stat(candidate).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return candidate;
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  return undefined;
}

/** Organ RLEs per slice id from a long or wide CSV. */
function readMaskRows(text: string, csv: string): Map<string, Partial<Record<Organ, string>>> {
  const header = text.slice(0, text.indexOf('\n') >>> 0).toLowerCase();
  const rows = new Map<string, Partial<Record<Organ, string>>>();
  if (/(^|,)\s*large_bowel\s*(,|$)/.test(header)) {
    for (const row of parseWideMaskCsv(text, csv)) rows.set(row.id, { ...row.rles });
  } else {
    for (const row of parseTrainCsv(text, csv)) {
      const entry = rows.get(row.id) ?? {};
      if (row.rle.trim() !== '') entry[row.organ] = row.rle;
      rows.set(row.id, entry);
    }
  }
  return rows;
}

function decodeRow(rles: Partial<Record<Organ, string>>, slice: SliceInfo, where: string): SliceMasks {
  const masks: SliceMasks = {};
  for (const [organ, rle] of Object.entries(rles) as [Organ, string][]) {
    const data = decodeKaggleRle(rle, slice.width, slice.height, `${where} (${slice.id} ${organ})`);
    masks[organ] = { width: slice.width, height: slice.height, data };
  }
  return masks;
}

/** Attach CSV masks to the slices that exist; report rows without images (see module comment). */
function attachMasks(
  rows: Map<string, Partial<Record<Organ, string>>>,
  csv: string,
  scans: Scan[],
  whole: boolean,
  warnings: DatasetWarning[],
): LazyMaskMap {
  const slices = new Map<string, SliceInfo>();
  for (const scan of scans) for (const s of scan.slices) slices.set(s.id, s);
  const loadedScans = new Set(scans.map((s) => s.id));
  const masks = new LazyMaskMap();
  const missing = new Map<string, string[]>();
  for (const [id, rles] of rows) {
    const slice = slices.get(id);
    if (!slice) {
      const scanId = parseSliceId(id)?.scanId ?? id;
      if (whole || loadedScans.has(scanId)) missing.set(scanId, [...(missing.get(scanId) ?? []), id]);
      continue;
    }
    decodeRow(rles, slice, csv); // validate now: a bad run should fail at open, naming the row
    masks.setLazy(id, () => decodeRow(rles, slice, csv));
  }
  for (const [scanId, ids] of missing) {
    const list = ids.length > 3 ? `${ids.slice(0, 3).join(', ')} … (${ids.length} in all)` : ids.join(', ');
    const what = loadedScans.has(scanId)
      ? 'slices with no image'
      : `slices, but there is no ${scanId} folder`;
    warnings.push({ where: csv, problem: `masks for ${ids.length} ${scanId} ${what}: ${list}` });
  }
  return masks;
}

export async function openUwmgi(dir: string, opts: OpenUwmgiOptions = {}): Promise<Dataset> {
  const root = path.resolve(dir);
  const { folders, whole } = await findCaseDays(root);
  if (folders.length === 0) {
    throw new InputError(root, 'no UW-Madison case-day folders (caseN/caseN_dayD/scans/slice_….png) found');
  }
  const warnings: DatasetWarning[] = [];
  const scans: Scan[] = [];
  for (const folder of folders) {
    const scan = await caseDayScan(folder, warnings);
    if (scan) scans.push(scan);
  }
  if (scans.length === 0) throw new InputError(root, 'no slice PNGs in any case-day folder');
  const csv = opts.masks === false ? undefined : opts.csv ? path.resolve(opts.csv) : await findTrainCsv(root);
  let masks = new LazyMaskMap();
  if (csv)
    masks = attachMasks(
      readMaskRows(await readTextOrExplain(csv), csv),
      csv,
      scans,
      whole || (!!opts.csv && whole),
      warnings,
    );
  const dataset = assembleDataset(root, scans, masks);
  if (warnings.length > 0) dataset.warnings = warnings;
  return dataset;
}

/** `slice_NNNN_W_H_pw_ph.png` with the spacing written with two decimals, as the dataset does. */
export function uwmgiSliceFileName(
  sliceNumber: number,
  width: number,
  height: number,
  spacing: [number, number],
): string {
  const [pw, ph] = spacing;
  return `slice_${String(sliceNumber).padStart(4, '0')}_${width}_${height}_${pw.toFixed(2)}_${ph.toFixed(2)}.png`;
}

/**
 * Write one 16-bit slice at `<root>/train/caseN/caseN_dayD/scans/slice_NNNN_W_H_pw_ph.png` and return
 * that path. `spacing` is [pw, ph]: mm across columns, then down rows, the order of the file name.
 */
export async function writeUwmgiSlice(
  root: string,
  scanId: string,
  sliceNumber: number,
  image: SliceImage,
  spacing: [number, number],
): Promise<string> {
  const m = CASE_DAY_RE.exec(scanId);
  if (!m) throw new InputError(scanId, 'scan id must be caseN_dayD to be written in the UW-Madison layout');
  if (!(Number.isInteger(sliceNumber) && sliceNumber >= 0))
    throw new RangeError(`bad slice number ${sliceNumber}`);
  if (!(image.data instanceof Uint16Array || image.data instanceof Uint8Array)) {
    throw new RangeError('UW-Madison slices are unsigned 16-bit; convert int16/float32 images first');
  }
  const file = path.join(
    root,
    'train',
    m[1]!,
    scanId,
    'scans',
    uwmgiSliceFileName(sliceNumber, image.width, image.height, spacing),
  );
  await writePng16(file, { width: image.width, height: image.height, data: image.data });
  return file;
}
