/**
 * The fine-tune training set: the slices a clinician corrected or approved, written into the workspace as
 * a COCO instances file (compressed RLE, via main/masks buildCocoDataset) with each slice's image beside
 * it under its UW-Madison file name, so `tractus train --data <that file>` reads exactly what the app used.
 *
 * Layout:  <dir>/annotations.coco.json
 *          <dir>/train/caseN/caseN_dayD/scans/slice_NNNN_W_H_pw_ph.png   (UW-named scans; 16-bit)
 *          <dir>/images/<scanId>/<sliceId>.png                         (any other scan)
 *
 * Only reviewed slices are written: a COCO image without annotations means "no organ here", so adding
 * unreviewed neighbours would teach the model that they are empty. The 2.5D context of a slice is then
 * its nearest reviewed neighbours (the real ones when a run of slices or a whole scan was reviewed).
 */
import path from 'node:path';
import { InputError } from '../core/errors';
import { parseSlicePath } from '../core/ids';
import type { Scan, SliceImage, SliceMasks } from '../core/types';
import { writeJsonAtomic } from '../io/files';
import { writePng16 } from '../imaging/png';
import { writeUwmgiSlice } from '../imaging/uwmgi';
import { buildCocoDataset, type CocoBuildSlice } from '../masks/coco';
import { minMax } from '../core/arrays';

export const TRAINING_SET_FILE = 'annotations.coco.json';

export interface TrainingExample {
  scan: Scan;
  sliceIndex: number;
  masks: SliceMasks;
}

export interface WrittenTrainingSet {
  /** The COCO file. */
  file: string;
  slices: number;
  scans: number;
  patients: number;
}

const UW_SCAN_RE = /^case\d+_day\d+$/;

/**
 * Pixels as unsigned 16-bit for a PNG. Training normalises every slice by its own 0.5/99.5 percentiles,
 * which a linear map of the values does not change, so int16 and float32 slices are mapped linearly
 * from [min, max] onto [0, 65535]; uint8 and uint16 are kept as they are.
 */
export function toUint16(image: SliceImage): SliceImage & { data: Uint16Array | Uint8Array } {
  const { data } = image;
  if (data instanceof Uint16Array || data instanceof Uint8Array) return { ...image, data };
  const [min, max] = minMax(data);
  const out = new Uint16Array(data.length);
  const range = max - min;
  if (range > 0 && Number.isFinite(range)) {
    const k = 65535 / range;
    for (let i = 0; i < data.length; i++) out[i] = Math.round((data[i]! - min) * k);
  }
  return { width: image.width, height: image.height, data: out };
}

/** Scan ids become folder names for non-UW scans: keep them inside the training-set folder. */
function safeSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'scan';
}

/** Write one slice image and return its path relative to `dir`, '/'-separated as COCO file names are. */
async function writeImage(dir: string, example: TrainingExample): Promise<string> {
  const { scan, sliceIndex } = example;
  const info = scan.slices[sliceIndex];
  if (!info) throw new InputError(scan.id, `slice index ${sliceIndex} out of range`);
  const image = toUint16(await scan.readSlice(sliceIndex));
  let file: string;
  if (UW_SCAN_RE.test(scan.id)) {
    // The file name carries [mm across columns, mm down rows]; unknown spacing is written as 1 mm.
    const spacing: [number, number] = scan.pixelSpacing
      ? [scan.pixelSpacing[1], scan.pixelSpacing[0]]
      : [1, 1];
    file = await writeUwmgiSlice(dir, scan.id, info.number, image, spacing);
  } else {
    file = path.join(dir, 'images', safeSegment(scan.id), `${safeSegment(info.id)}.png`);
    await writePng16(file, image);
  }
  return path.relative(dir, file).split(path.sep).join('/');
}

/** Write the training set of `examples` into `dir` (created); slices come out ordered by scan and slice. */
export async function writeTrainingSet(
  dir: string,
  examples: readonly TrainingExample[],
  opts: { description?: string; signal?: AbortSignal } = {},
): Promise<WrittenTrainingSet> {
  if (examples.length === 0) throw new InputError(dir, 'no corrected or approved slices to train on');
  const images: CocoBuildSlice[] = [];
  for (const example of examples) {
    if (opts.signal?.aborted) throw new InputError(dir, 'writing the training set was cancelled');
    const info = example.scan.slices[example.sliceIndex]!;
    const fileName = await writeImage(dir, example);
    // The name must lead the training reader back to the same scan and slice number.
    const key = parseSlicePath(fileName);
    if (key && key.scanId === example.scan.id && key.sliceNumber !== info.number) {
      throw new InputError(fileName, `names slice ${key.sliceNumber}, expected ${info.number}`);
    }
    images.push({ fileName, width: info.width, height: info.height, masks: example.masks });
  }
  const file = path.join(dir, TRAINING_SET_FILE);
  await writeJsonAtomic(
    file,
    buildCocoDataset(images, {
      info: {
        description: opts.description ?? 'Tractus fine-tune set: slices corrected or approved by a clinician',
        date_created: new Date().toISOString(),
      },
    }),
  );
  return {
    file,
    slices: images.length,
    scans: new Set(examples.map((e) => e.scan.id)).size,
    patients: new Set(examples.map((e) => e.scan.patientId)).size,
  };
}
