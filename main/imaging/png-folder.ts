/**
 * A plain folder of PNG slices → one patient, one study, one scan. Slices are ordered by the number in
 * their names (natural sort), so `img2.png` comes before `img10.png`. A folder of files named
 * `caseN_dayD_slice_NNNN.png` is split into one scan per case-day instead (groupIntoScans, shared with COCO).
 *
 * Ids: when the folder path names a UW-Madison `caseN_dayD`, patient/day/scan come from it; otherwise the
 * folder name is the patient, study and scan id and the day is 'unknown'. Slice numbers are the
 * `slice_NNNN` number, else the last number in the file name, else (or when two files would share a
 * number) the 1-based position; slice ids are `<scanId>_slice_NNNN`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError, isInputError } from '../core/errors';
import { parseSlicePath, parseUwSliceFileName, sliceId } from '../core/ids';
import type { Dataset, DatasetWarning, Scan, SliceInfo } from '../core/types';
import { assembleDataset, intensityOfBitDepth, naturalCompare, pngScan } from './assemble';
import { readPngHeader, type PngHeader } from './png';

export function isPngFileName(name: string): boolean {
  return /\.png$/i.test(name) && !name.startsWith('.');
}

async function listPngFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(dir, code === 'ENOENT' ? 'folder not found' : `cannot list folder (${code})`, {
      cause: e,
    });
  }
  return names.filter(isPngFileName).sort(naturalCompare);
}

/** Slice number of a file name as described in the module comment; undefined when it has no number. */
export function sliceNumberInName(name: string): number | undefined {
  const explicit = /slice_(\d+)/i.exec(name);
  if (explicit) return Number(explicit[1]);
  const numbers = path.parse(name).name.match(/\d+/g);
  return numbers ? Number(numbers[numbers.length - 1]) : undefined;
}

/** Slice numbers for files of one scan: from the names when they are all present and distinct, else positions. */
export function sliceNumbers(names: string[]): number[] {
  const numbers = names.map(sliceNumberInName);
  const unique = new Set(numbers);
  const usable = !numbers.includes(undefined) && unique.size === numbers.length;
  return usable ? (numbers as number[]) : names.map((_, i) => i + 1);
}

/** Scan identity from the folder: a `caseN_dayD` in its path, or the folder name itself. */
function scanIdentity(dir: string): { id: string; patientId: string; day: string } {
  const m = /(case\d+)_(day\d+)/.exec(path.resolve(dir));
  if (m) return { id: `${m[1]}_${m[2]}`, patientId: m[1]!, day: m[2]! };
  const name = path.basename(path.resolve(dir)) || 'scan';
  return { id: name, patientId: name, day: 'unknown' };
}

export interface ImageEntry {
  file: string;
  /** path as the source names it (COCO file_name, or the file name) */
  name: string;
  /** the COCO image id, for COCO input */
  cocoId?: number;
  width: number;
  height: number;
}

export interface Grouped {
  scans: Scan[];
  /** slice id of each entry, in entry order */
  sliceIds: string[];
  /** entries whose file is missing or unreadable: kept as slices, so only their scan fails when read */
  warnings: DatasetWarning[];
}

/**
 * Group image files into scans: a name with `caseN_dayD` and `slice_NNNN` (parseSlicePath) joins scan
 * `caseN_dayD` as that slice; other images are grouped by their folder, one scan per folder named after
 * it, numbered by the number in their names. Reads each PNG header for size and bit depth.
 */
export async function groupIntoScans(entries: ImageEntry[], source: 'coco' | 'png'): Promise<Grouped> {
  const groups = new Map<
    string,
    { patientId: string; day: string; members: { entry: number; number: number }[] }
  >();
  const byFolder = new Map<string, number[]>();
  entries.forEach((e, i) => {
    const key = parseSlicePath(e.name);
    if (key) {
      const g = groups.get(key.scanId) ?? { patientId: key.patientId, day: key.day, members: [] };
      g.members.push({ entry: i, number: key.sliceNumber });
      groups.set(key.scanId, g);
    } else {
      const folder = path.dirname(e.file);
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), i]);
    }
  });
  for (const [folder, members] of byFolder) {
    const id = path.basename(folder) || 'images';
    const sorted = [...members].sort((a, b) => naturalCompare(entries[a]!.name, entries[b]!.name));
    const numbers = sliceNumbers(sorted.map((i) => path.basename(entries[i]!.name)));
    const scanId = groups.has(id) ? `${id}_${groups.size}` : id;
    groups.set(scanId, {
      patientId: scanId,
      day: 'unknown',
      members: sorted.map((entry, k) => ({ entry, number: numbers[k]! })),
    });
  }
  const sliceIds: string[] = new Array(entries.length);
  const scans: Scan[] = [];
  const warnings: DatasetWarning[] = [];
  for (const [scanId, group] of groups) {
    group.members.sort((a, b) => a.number - b.number);
    const slices: SliceInfo[] = [];
    let bitDepth = 0;
    for (const { entry, number } of group.members) {
      const e = entries[entry]!;
      let header: PngHeader;
      try {
        header = await readPngHeader(e.file);
      } catch (err) {
        if (!isInputError(err)) throw err;
        // keep the slice at its listed size: reading it fails, and with it only this scan
        warnings.push({ where: err.where, problem: `${err.problem}; scan ${scanId} cannot be read whole` });
        header = { width: e.width, height: e.height, bitDepth: 8, colourType: 0 };
      }
      if (header.width !== e.width || header.height !== e.height) {
        throw new InputError(
          e.file,
          `image is ${header.width}×${header.height} but ${e.width}×${e.height} is listed`,
        );
      }
      const first = slices[0];
      if (first && (first.width !== e.width || first.height !== e.height)) {
        throw new InputError(
          e.file,
          `is ${e.width}×${e.height} while ${first.file} of scan ${scanId} is ${first.width}×${first.height}`,
        );
      }
      if (slices.length > 0 && slices[slices.length - 1]!.number === number) {
        throw new InputError(
          e.file,
          `is slice ${number} of ${scanId}, like ${slices[slices.length - 1]!.file}`,
        );
      }
      bitDepth = Math.max(bitDepth, header.bitDepth);
      const id = sliceId(scanId, number);
      sliceIds[entry] = id;
      slices.push({
        id,
        number,
        width: e.width,
        height: e.height,
        file: e.file,
        ...(e.cocoId === undefined ? {} : { cocoImageId: e.cocoId }),
      });
    }
    // UW-Madison file names carry the pixel spacing; other names do not.
    const uw = parseUwSliceFileName(path.basename(slices[0]!.file!));
    scans.push(
      pngScan({
        id: scanId,
        patientId: group.patientId,
        studyId: scanId,
        day: group.day,
        width: slices[0]!.width,
        height: slices[0]!.height,
        pixelSpacing: uw ? [uw.spacingY, uw.spacingX] : null,
        sliceThickness: uw ? 3 : null,
        intensity: intensityOfBitDepth(bitDepth),
        source,
        slices,
      }),
    );
  }
  return { scans, sliceIds, warnings };
}

export async function openPngFolder(dir: string): Promise<Dataset> {
  const names = await listPngFiles(dir);
  if (names.length === 0) throw new InputError(dir, 'no PNG files in this folder');
  // `caseN_dayD_slice_NNNN.png` names say which scan each file belongs to: one folder may hold many
  if (names.some((name) => parseSlicePath(name))) return openNamedSlices(dir, names);
  const numbers = sliceNumbers(names);
  const order = names.map((name, i) => ({ name, number: numbers[i]! })).sort((a, b) => a.number - b.number);
  const identity = scanIdentity(dir);
  const slices: SliceInfo[] = [];
  let bitDepth = 0;
  for (const { name, number } of order) {
    const file = path.join(dir, name);
    const header = await readPngHeader(file);
    const first = slices[0];
    if (first && (header.width !== first.width || header.height !== first.height)) {
      throw new InputError(
        file,
        `is ${header.width}×${header.height} but ${first.file} is ${first.width}×${first.height}; a scan's slices must share one size`,
      );
    }
    bitDepth = Math.max(bitDepth, header.bitDepth);
    slices.push({
      id: sliceId(identity.id, number),
      number,
      width: header.width,
      height: header.height,
      file,
    });
  }
  const scan: Scan = pngScan({
    id: identity.id,
    patientId: identity.patientId,
    studyId: identity.id,
    day: identity.day,
    width: slices[0]!.width,
    height: slices[0]!.height,
    pixelSpacing: null,
    sliceThickness: null,
    intensity: intensityOfBitDepth(bitDepth),
    source: 'png',
    slices,
  });
  return assembleDataset(path.resolve(dir), [scan]);
}

/** A folder whose file names carry UW-Madison ids, split into scans by those ids. */
async function openNamedSlices(dir: string, names: string[]): Promise<Dataset> {
  const entries: ImageEntry[] = [];
  for (const name of names) {
    const header = await readPngHeader(path.join(dir, name));
    entries.push({ file: path.join(dir, name), name, width: header.width, height: header.height });
  }
  const { scans, warnings } = await groupIntoScans(entries, 'png');
  const dataset = assembleDataset(path.resolve(dir), scans);
  if (warnings.length > 0) dataset.warnings = warnings;
  return dataset;
}
