/**
 * Image sets that carry their masks beside them:
 * - `openCocoDataset(json)`: the images a COCO instances file lists (file_name relative to the JSON's
 *   folder) with its annotations as masks;
 * - `openColourMaskPairs(imagesDir, masksDir)`: site-sample style pairs, an image and a colour-coded mask
 *   of the same name.
 * Grouping into scans: see png-folder's groupIntoScans.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors';
import type { Dataset, SliceMasks } from '../core/types';
import { readJsonOrExplain } from '../io/files';
import { cocoToSliceMasks, parseCocoDataset } from '../masks/coco';
import { colourMaskToSliceMasks } from '../masks/colour-masks';
import { assembleDataset, naturalCompare } from './assemble';
import { readPngHeader, readPngPixels } from './png';
import { groupIntoScans, isPngFileName, type ImageEntry } from './png-folder';

/** What a caller needs of an image set's masks: `masks: false` (segmenting) neither decodes nor reads them. */
export interface ImageSetOptions {
  masks?: boolean;
}

export async function openCocoDataset(jsonFile: string, opts: ImageSetOptions = {}): Promise<Dataset> {
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
  // A missing or unreadable image fails only its scan (listed in the warnings), not the whole dataset.
  const { scans, sliceIds, warnings } = await groupIntoScans(entries, 'coco');
  if (warnings.length === entries.length) {
    throw new InputError(
      file,
      `none of the ${entries.length} listed images can be read (${warnings[0]!.where}: ${warnings[0]!.problem})`,
    );
  }
  const masks = new Map<string, SliceMasks>();
  if (opts.masks !== false) {
    const byImage = cocoToSliceMasks(coco, file);
    coco.images.forEach((image, i) => masks.set(sliceIds[i]!, byImage.get(image.id) ?? {}));
  }
  const dataset = assembleDataset(file, scans, masks);
  if (warnings.length > 0) dataset.warnings = warnings;
  return dataset;
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
export async function openColourMaskPairs(
  imagesDir: string,
  masksDir: string,
  opts: ImageSetOptions = {},
): Promise<Dataset> {
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
  const { scans, sliceIds, warnings } = await groupIntoScans(entries, 'png');
  const masks = new Map<string, SliceMasks>();
  const withMasks = opts.masks !== false;
  for (const [i, e] of withMasks ? entries.entries() : []) {
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
  for (const name of withMasks ? maskNames : []) {
    if (!names.includes(name))
      warnings.push({ where: path.join(maskFolder, name), problem: `no image ${name} in ${images}` });
  }
  const dataset = assembleDataset(images, scans, masks);
  if (warnings.length > 0) dataset.warnings = warnings;
  return dataset;
}
