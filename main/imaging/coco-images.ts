/**
 * Image sets that carry their masks beside them:
 * - `openCocoDataset(json)`: the images a COCO instances file lists (file_name relative to the JSON's
 *   folder) with its annotations as masks;
 * - `openColourMaskPairs(imagesDir, masksDir)`: site-sample style pairs, an image and a colour-coded mask
 *   of the same name.
 * Grouping into scans: a path with `caseN_dayD` and `slice_NNNN` (parseSlicePath) joins scan `caseN_dayD`
 * as that slice; other images are grouped by their folder, one scan per folder named after it, numbered by
 * the number in their names (as a plain PNG folder is).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors';
import { parseSlicePath, parseUwSliceFileName, sliceId } from '../core/ids';
import type { Dataset, DatasetWarning, Scan, SliceInfo, SliceMasks } from '../core/types';
import { readJsonOrExplain } from '../io/files';
import { cocoToSliceMasks, parseCocoDataset } from '../masks/coco';
import { colourMaskToSliceMasks } from '../masks/colour-masks';
import { assembleDataset, intensityOfBitDepth, naturalCompare, pngScan } from './assemble';
import { readPngHeader, readPngPixels } from './png';
import { isPngFileName, sliceNumbers } from './png-folder';

interface ImageEntry {
  file: string;
  /** path as the source names it (COCO file_name, or the file name) */
  name: string;
  /** the COCO image id, for COCO input */
  cocoId?: number;
  width: number;
  height: number;
}

interface Grouped {
  scans: Scan[];
  /** slice id of each entry, in entry order */
  sliceIds: string[];
}

/** Group image files into scans (see module comment); reads each PNG header for size and bit depth. */
async function groupIntoScans(entries: ImageEntry[], source: 'coco' | 'png'): Promise<Grouped> {
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
  for (const [scanId, group] of groups) {
    group.members.sort((a, b) => a.number - b.number);
    const slices: SliceInfo[] = [];
    let bitDepth = 0;
    for (const { entry, number } of group.members) {
      const e = entries[entry]!;
      const header = await readPngHeader(e.file);
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
  return { scans, sliceIds };
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function openCocoDataset(jsonFile: string): Promise<Dataset> {
  const file = path.resolve(jsonFile);
  const coco = parseCocoDataset(await readJsonOrExplain(file), file);
  if (coco.images.length === 0) throw new InputError(file, 'lists no images');
  const folder = path.dirname(file);
  const entries: ImageEntry[] = coco.images.map((image) => ({
    file: path.resolve(folder, image.file_name),
    name: image.file_name,
    cocoId: image.id,
    width: image.width,
    height: image.height,
  }));
  const missing: string[] = [];
  for (const e of entries) if (!(await exists(e.file))) missing.push(e.file);
  if (missing.length > 0) {
    const more =
      missing.length > 1 ? ` (and ${missing.length - 1} more listed in ${file})` : ` (listed in ${file})`;
    throw new InputError(missing[0]!, `image file not found${more}`);
  }
  const { scans, sliceIds } = await groupIntoScans(entries, 'coco');
  const byImage = cocoToSliceMasks(coco, file);
  const masks = new Map<string, SliceMasks>();
  coco.images.forEach((image, i) => masks.set(sliceIds[i]!, byImage.get(image.id) ?? {}));
  return assembleDataset(file, scans, masks);
}

async function pngNames(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir)).filter(isPngFileName).sort(naturalCompare);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(dir, code === 'ENOENT' ? 'folder not found' : `cannot list folder (${code})`, {
      cause: e,
    });
  }
}

/** Image PNGs with colour-coded masks of the same file name in `masksDir` (red stomach, yellow large bowel, green small bowel). */
export async function openColourMaskPairs(imagesDir: string, masksDir: string): Promise<Dataset> {
  const images = path.resolve(imagesDir);
  const maskFolder = path.resolve(masksDir);
  const names = await pngNames(images);
  if (names.length === 0) throw new InputError(images, 'no PNG images in this folder');
  const maskNames = new Set(await pngNames(maskFolder));
  const entries: ImageEntry[] = [];
  for (const name of names) {
    const header = await readPngHeader(path.join(images, name));
    entries.push({ file: path.join(images, name), name, width: header.width, height: header.height });
  }
  const { scans, sliceIds } = await groupIntoScans(entries, 'png');
  const masks = new Map<string, SliceMasks>();
  const warnings: DatasetWarning[] = [];
  for (const [i, e] of entries.entries()) {
    const name = path.basename(e.file);
    if (!maskNames.has(name)) {
      warnings.push({ where: e.file, problem: `no mask ${name} in ${maskFolder}` });
      continue;
    }
    const maskFile = path.join(maskFolder, name);
    const pixels = await readPngPixels(maskFile);
    if (pixels.width !== e.width || pixels.height !== e.height) {
      throw new InputError(
        maskFile,
        `mask is ${pixels.width}×${pixels.height} but its image is ${e.width}×${e.height}`,
      );
    }
    if (pixels.channels < 3)
      throw new InputError(maskFile, 'is a grayscale image, expected a colour-coded mask');
    const rgb =
      pixels.depth === 16 ? Uint8Array.from(pixels.data, (v) => v >> 8) : (pixels.data as Uint8Array);
    masks.set(
      sliceIds[i]!,
      colourMaskToSliceMasks(rgb, pixels.width, pixels.height, pixels.channels as 3 | 4),
    );
  }
  for (const name of maskNames) {
    if (!names.includes(name))
      warnings.push({ where: path.join(maskFolder, name), problem: `no image ${name} in ${images}` });
  }
  const dataset = assembleDataset(images, scans, masks);
  if (warnings.length > 0) dataset.warnings = warnings;
  return dataset;
}
