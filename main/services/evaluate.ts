/**
 * `tractus evaluate` and the app's evaluation view: read ground truth and prediction files in any supported
 * format, line them up by slice, and score them (main/metrics/evaluation.ts does the scoring).
 *
 * Ground truth: a COCO instances dataset (.json); a wide mask CSV with width/height columns (eval_subset.csv);
 * or a Kaggle train.csv (id,class,segmentation) with `images` = the dataset folder, read by imaging/uwmgi.ts
 * for the slice sizes.
 * Prediction: a COCO results list (.json; image_id = the ground truth's image ids — for CSV ground truth those
 * are 1.. in order of first appearance — or, with `predImages`, the ids of that COCO file's images, matched to
 * the ground truth by slice id); a COCO dataset (.json with images, matched by file name → slice id; an
 * annotation's optional `score`, else 1); or a Kaggle CSV (submission `id,class,predicted`, train-style
 * `segmentation`, or wide), which carries no scores: every mask scores 1.0.
 */
import { InputError } from '../core/errors';
import { parseSliceId, parseSlicePath } from '../core/ids';
import { organOfCategoryId, type Organ } from '../core/organs';
import { allScans, type BinaryMask } from '../core/types';
import { openUwmgi } from '../imaging/uwmgi';
import { readJsonOrExplain, readTextOrExplain } from '../io/files';
import { annotationToMask, parseCocoDataset, parseCocoResults, type CocoDataset } from '../masks/coco';
import { decodeCocoRle, rleArea } from '../masks/coco-rle';
import { parseSubmissionCsv, parseTrainCsv, parseWideMaskCsv, type KaggleMaskRow } from '../masks/kaggle-csv';
import { decodeKaggleRle } from '../masks/kaggle-rle';
import {
  evaluateSegmentation,
  type EvalImage,
  type EvalInstance,
  type EvaluationReport,
} from '../metrics/evaluation';

export type { EvaluationReport } from '../metrics/evaluation';

export interface EvaluateOptions {
  /** Ground truth file: COCO dataset .json, wide mask .csv, or train.csv (then `images` is needed). */
  gt: string;
  /** Prediction file: COCO results or dataset .json, or a Kaggle .csv. */
  pred: string;
  /** Dataset folder whose UW-Madison slice file names give the sizes of a train.csv's slices. */
  images?: string;
  /** COCO dataset whose images the prediction's image ids refer to (matched to the ground truth by slice id). */
  predImages?: string;
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateFiles(opts: EvaluateOptions): Promise<EvaluationReport> {
  const gt = await readGroundTruth(opts.gt, opts.images);
  const pred = await readPrediction(opts.pred, gt.images, opts.predImages);
  return evaluateSegmentation(
    {
      images: gt.images,
      groundTruth: gt.instances,
      prediction: pred.instances,
      predictionSlicesNotInGroundTruth: pred.slicesNotInGroundTruth,
    },
    opts.onProgress,
  );
}

interface GroundTruth {
  images: EvalImage[];
  instances: EvalInstance[];
}

interface Prediction {
  instances: EvalInstance[];
  slicesNotInGroundTruth: number;
}

// ------------------------------------------------------------------------------------------- ground truth

async function readGroundTruth(file: string, imagesRoot: string | undefined): Promise<GroundTruth> {
  if (isJson(file)) return cocoGroundTruth(parseCocoDataset(await readJsonOrExplain(file), file), file);
  const text = await readTextOrExplain(file);
  const header = csvHeader(text);
  if (header.includes('width') && header.includes('height')) return wideCsvGroundTruth(text, file);
  if (header.includes('segmentation')) {
    if (!imagesRoot) {
      throw new InputError(file, 'a train.csv has no slice sizes: give the dataset folder with --images');
    }
    return trainCsvGroundTruth(parseTrainCsv(text, file), await uwSliceSizes(imagesRoot, file), file);
  }
  throw new InputError(
    file,
    'not a ground-truth CSV: expected id,class,segmentation or id,<organs>,width,height',
  );
}

function cocoGroundTruth(dataset: CocoDataset, file: string): GroundTruth {
  const images = dataset.images.map((image) =>
    evalImage(image.id, image.file_name, image.width, image.height),
  );
  const byId = new Map(dataset.images.map((image) => [image.id, image]));
  const instances = dataset.annotations.map((ann, i): EvalInstance => {
    const image = byId.get(ann.image_id)!; // parseCocoDataset checked it
    const where = `${file}: annotations[${i}]`;
    return {
      imageId: ann.image_id,
      organ: organOfCategoryId(ann.category_id)!,
      score: 1,
      iscrowd: ann.iscrowd === 1,
      area: ann.area, // pycocotools evaluates ground truth with the file's area
      decode: () => annotationToMask(ann, image, where),
      ...(Array.isArray(ann.segmentation) ? {} : { rle: ann.segmentation }),
    };
  });
  return { images, instances };
}

function wideCsvGroundTruth(text: string, file: string): GroundTruth {
  const images: EvalImage[] = [];
  const instances: EvalInstance[] = [];
  parseWideMaskCsv(text, file).forEach((row, i) => {
    const image = evalImage(i + 1, row.id, row.width, row.height);
    images.push(image);
    for (const [organ, rle] of Object.entries(row.rles) as Array<[Organ, string]>) {
      instances.push(kaggleInstance(image, organ, rle, file));
    }
  });
  return { images, instances };
}

function trainCsvGroundTruth(
  rows: KaggleMaskRow[],
  sizes: Map<string, { width: number; height: number }>,
  file: string,
): GroundTruth {
  const images = new Map<string, EvalImage>();
  const instances: EvalInstance[] = [];
  for (const row of rows) {
    let image = images.get(row.id);
    if (!image) {
      const size = sizes.get(row.id);
      if (!size) throw new InputError(file, `${row.id}: no image file for this slice under --images`);
      image = evalImage(images.size + 1, row.id, size.width, size.height);
      images.set(row.id, image);
    }
    if (row.rle !== '') instances.push(kaggleInstance(image, row.organ, row.rle, file));
  }
  return { images: [...images.values()], instances };
}

/** Slice id → size of every slice under a UW-Madison folder (imaging's reader; the CSV checked against it). */
async function uwSliceSizes(
  root: string,
  csv: string,
): Promise<Map<string, { width: number; height: number }>> {
  const dataset = await openUwmgi(root, { csv });
  return new Map(
    allScans(dataset).flatMap((scan) => scan.slices.map((s) => [s.id, { width: s.width, height: s.height }])),
  );
}

// ------------------------------------------------------------------------------------------- prediction

async function readPrediction(
  file: string,
  images: readonly EvalImage[],
  predImages: string | undefined,
): Promise<Prediction> {
  if (isJson(file)) {
    const json = await readJsonOrExplain(file);
    if (Array.isArray(json)) return cocoResultsPrediction(json, file, images, predImages);
    return cocoDatasetPrediction(json, file, images);
  }
  const text = await readTextOrExplain(file);
  const header = csvHeader(text);
  const rows = header.includes('predicted')
    ? parseSubmissionCsv(text, file)
    : header.includes('segmentation')
      ? parseTrainCsv(text, file)
      : parseWideMaskCsv(text, file).flatMap((row) =>
          (Object.entries(row.rles) as Array<[Organ, string]>).map(([organ, rle]) => ({
            id: row.id,
            organ,
            rle,
          })),
        );
  const bySlice = new Map(images.map((image) => [image.sliceId, image]));
  const outside = new Set<string>();
  const instances: EvalInstance[] = [];
  for (const row of rows) {
    const image = bySlice.get(row.id);
    if (!image) outside.add(row.id);
    else if (row.rle !== '') instances.push(kaggleInstance(image, row.organ, row.rle, file));
  }
  return { instances, slicesNotInGroundTruth: outside.size };
}

async function cocoResultsPrediction(
  json: unknown,
  file: string,
  images: readonly EvalImage[],
  predImages: string | undefined,
): Promise<Prediction> {
  const results = parseCocoResults(json, file);
  const gtById = new Map(images.map((image) => [image.imageId, image]));
  let toGroundTruth = (imageId: number): EvalImage | undefined => gtById.get(imageId);
  if (predImages) {
    const own = parseCocoDataset(await readJsonOrExplain(predImages), predImages);
    const bySlice = new Map(images.map((image) => [image.sliceId, image]));
    const ownById = new Map(own.images.map((image) => [image.id, sliceKeyOf(image.file_name)]));
    toGroundTruth = (imageId) => bySlice.get(ownById.get(imageId) ?? '');
  }
  const instances = results.map((r, i): EvalInstance => {
    const where = `${file}: [${i}]`;
    const image = toGroundTruth(r.image_id);
    if (!image) {
      throw new InputError(
        where,
        predImages
          ? `image_id ${r.image_id} is not an image of ${predImages} whose slice is in the ground truth`
          : `image_id ${r.image_id} is not an image of the ground truth`,
      );
    }
    checkRleSize(r.segmentation.size, image, where);
    return {
      imageId: image.imageId,
      organ: organOfCategoryId(r.category_id)!,
      score: r.score,
      iscrowd: false,
      area: rleArea(r.segmentation),
      decode: () => decodeCocoRle(r.segmentation, where),
      rle: r.segmentation,
    };
  });
  return { instances, slicesNotInGroundTruth: 0 };
}

function cocoDatasetPrediction(json: unknown, file: string, images: readonly EvalImage[]): Prediction {
  const dataset = parseCocoDataset(json, file);
  const rawAnnotations = (json as { annotations: Array<{ score?: unknown }> }).annotations;
  const bySlice = new Map(images.map((image) => [image.sliceId, image]));
  const own = new Map(dataset.images.map((image) => [image.id, image]));
  const outside = new Set<string>();
  const instances: EvalInstance[] = [];
  dataset.annotations.forEach((ann, i) => {
    const ownImage = own.get(ann.image_id)!;
    const sliceId = sliceKeyOf(ownImage.file_name);
    const image = bySlice.get(sliceId);
    if (!image) {
      outside.add(sliceId);
      return;
    }
    const where = `${file}: annotations[${i}]`;
    if (ownImage.width !== image.width || ownImage.height !== image.height) {
      throw new InputError(
        where,
        `image ${ownImage.file_name} is ${ownImage.width}×${ownImage.height}, the ground truth's slice is ${image.width}×${image.height}`,
      );
    }
    const score = rawAnnotations[i]?.score;
    if (score !== undefined && (typeof score !== 'number' || !(score >= 0 && score <= 1))) {
      throw new InputError(where, `score ${JSON.stringify(score)} is not a number in [0, 1]`);
    }
    instances.push({
      imageId: image.imageId,
      organ: organOfCategoryId(ann.category_id)!,
      score: score ?? 1,
      iscrowd: false,
      decode: () => annotationToMask(ann, ownImage, where),
      ...(Array.isArray(ann.segmentation) ? {} : { rle: ann.segmentation }),
    });
  });
  return { instances, slicesNotInGroundTruth: outside.size };
}

// ------------------------------------------------------------------------------------------- shared

function evalImage(imageId: number, name: string, width: number, height: number): EvalImage {
  const key = parseSliceId(name) ?? parseSlicePath(name);
  if (!key) return { imageId, sliceId: name, scanId: name, sliceNumber: 0, width, height };
  return { imageId, sliceId: key.sliceId, scanId: key.scanId, sliceNumber: key.sliceNumber, width, height };
}

function sliceKeyOf(fileName: string): string {
  return (parseSliceId(fileName) ?? parseSlicePath(fileName))?.sliceId ?? fileName;
}

function kaggleInstance(image: EvalImage, organ: Organ, rle: string, file: string): EvalInstance {
  const where = `${file} (${image.sliceId} ${organ})`;
  return {
    imageId: image.imageId,
    organ,
    score: 1,
    iscrowd: false,
    decode: (): BinaryMask => ({
      width: image.width,
      height: image.height,
      data: decodeKaggleRle(rle, image.width, image.height, where),
    }),
  };
}

function checkRleSize(size: readonly [number, number], image: EvalImage, where: string): void {
  if (size[0] !== image.height || size[1] !== image.width) {
    throw new InputError(
      where,
      `RLE size [${size.join(', ')}] is not the slice's [height, width] [${image.height}, ${image.width}] (${image.sliceId})`,
    );
  }
}

function csvHeader(text: string): string[] {
  const firstLine = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  return firstLine.split(',').map((f) => f.trim().replace(/^"|"$/g, ''));
}

function isJson(file: string): boolean {
  return file.toLowerCase().endsWith('.json');
}
