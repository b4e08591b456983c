/**
 * COCO instances datasets and results files: validation (zod, with errors naming the field), masks in and out.
 * Categories are Tractus' fixed three (COCO_CATEGORIES); areas and boxes are computed as pycocotools does.
 */
import { z } from 'zod';
import { InputError } from '../core/errors';
import {
  COCO_CATEGORIES,
  ORGANS,
  categoryIdOf,
  organOfCategoryId,
  type CategoryId,
  type Organ,
} from '../core/organs';
import type { BinaryMask, SliceMasks } from '../core/types';
import {
  decodeCocoRle,
  encodeCocoRle,
  maskArea,
  maskBbox,
  rleArea,
  rleBbox,
  type CocoRle,
  type UncompressedRle,
} from './coco-rle';
import { maskToPolygons, rasterizePolygons } from './polygons';

export type Bbox = [x: number, y: number, w: number, h: number];
export type CocoSegmentation = CocoRle | UncompressedRle | number[][];

export interface CocoImage {
  id: number;
  /** For UW-Madison slices, the dataset-relative path, e.g. `train/case1/case1_day0/scans/slice_0001_…png`. */
  file_name: string;
  width: number;
  height: number;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: CategoryId;
  segmentation: CocoSegmentation;
  /** Foreground pixels, as pycocotools' area (filled in when the file leaves it out). */
  area: number;
  bbox: Bbox;
  iscrowd: 0 | 1;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory: string;
}

export interface CocoDataset {
  info?: object;
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

/** One detection in a COCO results file (the list pycocotools' loadRes reads). */
export interface CocoResult {
  image_id: number;
  category_id: CategoryId;
  segmentation: CocoRle;
  score: number;
}

const id = z.number().int().nonnegative();
const categoryId = z
  .number()
  .refine((v) => organOfCategoryId(v) !== undefined, {
    error: (issue) => `${JSON.stringify(issue.input)} is not 1, 2 or 3 (${ORGANS.join(', ')})`,
  })
  .transform((v) => v as CategoryId);
const size = z.number().int().positive();

const imageSchema = z.object({ id, file_name: z.string().min(1), width: size, height: size });
const annotationSchema = z.object({
  id,
  image_id: id,
  category_id: categoryId,
  segmentation: z.unknown(),
  area: z.number().nonnegative().optional(),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  iscrowd: z.union([z.literal(0), z.literal(1)]).optional(),
});
const categorySchema = z.object({ id, name: z.string(), supercategory: z.string().optional() });
const datasetSchema = z.object({
  info: z.object({}).loose().optional(),
  images: z.array(imageSchema),
  annotations: z.array(annotationSchema),
  categories: z.array(categorySchema).optional(),
});
const resultSchema = z.object({
  image_id: id,
  category_id: categoryId,
  segmentation: z.unknown(),
  score: z.number(), // any finite number, as pycocotools (only the ordering matters)
});

/** Validate a parsed COCO instances JSON. Every problem is an InputError `where: field.path: problem`. */
export function parseCocoDataset(json: unknown, where: string): CocoDataset {
  const parsed = datasetSchema.safeParse(json);
  if (!parsed.success) throw zodInputError(parsed.error, where);
  const raw = parsed.data;
  const categories = checkCategories(raw.categories ?? COCO_CATEGORIES, where);
  const images = new Map<number, CocoImage>();
  raw.images.forEach((image, i) => {
    if (images.has(image.id)) throw new InputError(where, `images[${i}].id: ${image.id} is used twice`);
    images.set(image.id, image);
  });
  const annotationIds = new Set<number>();
  const annotations = raw.annotations.map((ann, i): CocoAnnotation => {
    const at = `annotations[${i}]`;
    if (annotationIds.has(ann.id)) throw new InputError(where, `${at}.id: ${ann.id} is used twice`);
    annotationIds.add(ann.id);
    const image = images.get(ann.image_id);
    if (!image) throw new InputError(where, `${at}.image_id: no image has id ${ann.image_id}`);
    const segmentation = parseSegmentation(ann.segmentation, `${where}: ${at}.segmentation`);
    const needsMask = ann.area === undefined || ann.bbox === undefined;
    const mask = needsMask
      ? segmentationToMask(segmentation, image, `${where}: ${at}.segmentation`)
      : undefined;
    return {
      id: ann.id,
      image_id: ann.image_id,
      category_id: ann.category_id,
      segmentation,
      area: ann.area ?? maskArea(mask!),
      bbox: ann.bbox ?? maskBbox(mask!),
      iscrowd: ann.iscrowd ?? 0,
    };
  });
  return {
    ...(raw.info ? { info: raw.info } : {}),
    images: raw.images,
    annotations,
    categories,
  };
}

/** Validate a COCO results list (detections with RLE segmentations and scores). */
export function parseCocoResults(json: unknown, where: string): CocoResult[] {
  const parsed = z.array(resultSchema).safeParse(json);
  if (!parsed.success) throw zodInputError(parsed.error, where);
  return parsed.data.map((r, i) => {
    const at = `${where}: [${i}].segmentation`;
    const segmentation = parseSegmentation(r.segmentation, at);
    if (Array.isArray(segmentation) || typeof segmentation.counts !== 'string') {
      throw new InputError(at, 'a result segmentation must be compressed RLE {size, counts: string}');
    }
    decodeCocoRle(segmentation, at); // proves the counts cover the image
    return {
      image_id: r.image_id,
      category_id: r.category_id,
      segmentation: segmentation as CocoRle,
      score: r.score,
    };
  });
}

/** Decode one annotation's mask at its image's size (compressed or uncompressed RLE, or polygons). */
export function annotationToMask(ann: CocoAnnotation, image: CocoImage, where: string): BinaryMask {
  return segmentationToMask(ann.segmentation, image, where);
}

function segmentationToMask(seg: CocoSegmentation, image: CocoImage, where: string): BinaryMask {
  if (Array.isArray(seg)) {
    return {
      width: image.width,
      height: image.height,
      data: rasterizePolygons(seg, image.width, image.height, where),
    };
  }
  if (seg.size[0] !== image.height || seg.size[1] !== image.width) {
    throw new InputError(
      where,
      `RLE size [${seg.size.join(', ')}] is not the image's [height, width] [${image.height}, ${image.width}]`,
    );
  }
  return decodeCocoRle(seg, where);
}

/**
 * Segmentation as JSON gives it: polygons (number[][]), RLE {size, counts}, or RLE written as a Python dict
 * string, `"{'size': [512, 512], 'counts': '…'}"` (or `counts: b'…'`), which is what `str(rle)` produces in
 * scripts that forget to decode pycocotools' bytes. The shared site-sample file holds only proper JSON objects
 * (33 of 33 annotations); the string form is accepted because such exports exist in the wild.
 */
export function parseSegmentation(value: unknown, where: string): CocoSegmentation {
  if (typeof value === 'string') return parsePythonDictRle(value, where);
  if (Array.isArray(value)) {
    value.forEach((poly, i) => {
      if (!Array.isArray(poly) || !poly.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new InputError(where, `polygon ${i} is not a list of numbers`);
      }
      if (poly.length < 6 || poly.length % 2 !== 0) {
        throw new InputError(
          where,
          `polygon ${i} has ${poly.length} numbers; needs an even count of at least 6`,
        );
      }
    });
    return value as number[][];
  }
  if (typeof value === 'object' && value !== null && 'size' in value && 'counts' in value) {
    const { size, counts } = value as { size: unknown; counts: unknown };
    const okSize =
      Array.isArray(size) &&
      size.length === 2 &&
      size.every((v) => Number.isSafeInteger(v) && (v as number) > 0);
    if (!okSize) throw new InputError(where, 'RLE size must be [height, width] of positive integers');
    if (typeof counts === 'string') return { size: size as [number, number], counts };
    if (Array.isArray(counts) && counts.every((v) => Number.isSafeInteger(v) && (v as number) >= 0)) {
      return { size: size as [number, number], counts: counts as number[] };
    }
    throw new InputError(where, 'RLE counts must be a string or a list of non-negative integers');
  }
  throw new InputError(where, 'segmentation must be polygons (list of number lists) or RLE {size, counts}');
}

const PY_DICT_RLE =
  /^\{\s*'size'\s*:\s*\[\s*(\d+)\s*,\s*(\d+)\s*\]\s*,\s*'counts'\s*:\s*b?'((?:[^'\\]|\\\\)*)'\s*\}$/;

function parsePythonDictRle(text: string, where: string): CocoRle {
  const m = PY_DICT_RLE.exec(text.trim());
  if (!m)
    throw new InputError(where, "segmentation string is not of the form {'size': [h, w], 'counts': '…'}");
  // Python's repr writes the one backslash that the RLE alphabet holds as two.
  return { size: [Number(m[1]), Number(m[2])], counts: m[3]!.replace(/\\\\/g, '\\') };
}

function checkCategories(categories: readonly { id: number; name: string }[], where: string): CocoCategory[] {
  categories.forEach((c, i) => {
    const organ = organOfCategoryId(c.id);
    if (organ !== c.name) {
      const expected = COCO_CATEGORIES.map((k) => `${k.id} ${k.name}`).join(', ');
      throw new InputError(
        where,
        `categories[${i}]: ${c.id} '${c.name}' does not match Tractus' ${expected}`,
      );
    }
  });
  return COCO_CATEGORIES.map((c) => ({ ...c }));
}

function zodInputError(error: z.ZodError, where: string): InputError {
  const issue = error.issues[0]!;
  const path = issue.path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
  return new InputError(where, `${path || '(top level)'}: ${issue.message}`);
}

export interface CocoBuildSlice {
  fileName: string;
  width: number;
  height: number;
  masks: SliceMasks;
}

/**
 * A COCO instances dataset of the given slices: image ids 1.., one annotation per organ with at least one
 * pixel (compressed RLE, or pixel-exact polygons with `polygons: true`), area and bbox as pycocotools.
 * Slices without organs still get an image entry.
 */
export function buildCocoDataset(
  images: readonly CocoBuildSlice[],
  opts: { polygons?: boolean; info?: object } = {},
): CocoDataset {
  const cocoImages: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  images.forEach((slice, i) => {
    const imageId = i + 1;
    cocoImages.push({ id: imageId, file_name: slice.fileName, width: slice.width, height: slice.height });
    for (const [organ, mask] of presentOrgans(slice.masks)) {
      checkMaskSize(mask, slice.width, slice.height, `${slice.fileName} (${organ})`);
      annotations.push({
        id: annotations.length + 1,
        image_id: imageId,
        category_id: categoryIdOf(organ),
        segmentation: opts.polygons ? maskToPolygons(mask) : encodeCocoRle(mask),
        area: maskArea(mask),
        bbox: maskBbox(mask),
        iscrowd: 0,
      });
    }
  });
  return {
    info: opts.info ?? { description: 'Tractus organ masks (large_bowel, small_bowel, stomach)' },
    images: cocoImages,
    annotations,
    categories: COCO_CATEGORIES.map((c) => ({ ...c })),
  };
}

/** COCO results: one compressed-RLE detection per organ present, with its score (1 when none is given). */
export function buildCocoResults(
  slices: readonly { imageId: number; masks: SliceMasks; scores?: Partial<Record<Organ, number>> }[],
): CocoResult[] {
  const results: CocoResult[] = [];
  for (const slice of slices) {
    for (const [organ, mask] of presentOrgans(slice.masks)) {
      results.push({
        image_id: slice.imageId,
        category_id: categoryIdOf(organ),
        segmentation: encodeCocoRle(mask),
        score: slice.scores?.[organ] ?? 1,
      });
    }
  }
  return results;
}

/** Masks per image id; several annotations of one organ on one image are OR-ed. Every image gets an entry. */
export function cocoToSliceMasks(dataset: CocoDataset, where: string): Map<number, SliceMasks> {
  const images = new Map(dataset.images.map((image) => [image.id, image]));
  const out = new Map<number, SliceMasks>(dataset.images.map((image) => [image.id, {}]));
  dataset.annotations.forEach((ann, i) => {
    const image = images.get(ann.image_id);
    if (!image) throw new InputError(where, `annotations[${i}].image_id: no image has id ${ann.image_id}`);
    const organ = organOfCategoryId(ann.category_id);
    if (!organ)
      throw new InputError(where, `annotations[${i}].category_id: ${ann.category_id} is not 1, 2 or 3`);
    const mask = annotationToMask(ann, image, `${where}: annotations[${i}].segmentation`);
    const masks = out.get(image.id)!;
    const existing = masks[organ];
    if (existing) for (let p = 0; p < mask.data.length; p++) existing.data[p]! |= mask.data[p]!;
    else masks[organ] = mask;
  });
  return out;
}

/** Area and box of a compressed or uncompressed RLE, as pycocotools' area/toBbox. */
export function rleAreaAndBbox(rle: CocoRle | UncompressedRle): { area: number; bbox: Bbox } {
  return { area: rleArea(rle), bbox: rleBbox(rle) };
}

function presentOrgans(masks: SliceMasks): Array<[Organ, BinaryMask]> {
  const present: Array<[Organ, BinaryMask]> = [];
  for (const organ of ORGANS) {
    const mask = masks[organ];
    if (mask && mask.data.some((v) => v !== 0)) present.push([organ, mask]);
  }
  return present;
}

function checkMaskSize(mask: BinaryMask, width: number, height: number, where: string): void {
  if (mask.width !== width || mask.height !== height || mask.data.length !== width * height) {
    throw new InputError(where, `mask is ${mask.width}×${mask.height} but the slice is ${width}×${height}`);
  }
}
