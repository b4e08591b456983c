/**
 * A plain folder of PNG slices → one patient, one study, one scan. Slices are ordered by the number in
 * their names (natural sort), so `img2.png` comes before `img10.png`.
 *
 * Ids: when the folder path names a UW-Madison `caseN_dayD`, patient/day/scan come from it; otherwise the
 * folder name is the patient, study and scan id and the day is 'unknown'. Slice numbers are the
 * `slice_NNNN` number, else the last number in the file name, else (or when two files would share a
 * number) the 1-based position; slice ids are `<scanId>_slice_NNNN`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors';
import { sliceId } from '../core/ids';
import type { Dataset, Scan, SliceInfo } from '../core/types';
import { assembleDataset, intensityOfBitDepth, naturalCompare, pngScan } from './assemble';
import { readPngHeader } from './png';

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

export async function openPngFolder(dir: string): Promise<Dataset> {
  const names = await listPngFiles(dir);
  if (names.length === 0) throw new InputError(dir, 'no PNG files in this folder');
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
