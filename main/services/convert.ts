/**
 * `tractus convert`: organ masks from one format to another, written atomically.
 *
 * Inputs: a Kaggle UW-Madison layout (a folder holding train.csv and `train/…/scans/slice_NNNN_W_H_…png`, or
 * that train.csv itself; read by imaging/uwmgi.ts); a wide mask CSV with width/height columns
 * (eval_subset.csv; no images needed); a COCO instances dataset (.json); colour-coded mask images (`masks` =
 * their folder, `input` = the folder of the matching images, same file names; imaging/coco-images.ts).
 * Outputs: `coco` (a COCO dataset, compressed RLE or `polygons`), `kaggle` (train.csv: id,class,segmentation,
 * one row per slice and organ), `kaggle-wide` (id,large_bowel,small_bowel,stomach,width,height: carries the
 * sizes, so it converts back without the images). Slices without an organ keep their image (COCO) or row
 * (CSV) but get no annotation / an empty RLE. Slices keep their input order.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors';
import { parseSliceId, parseSlicePath } from '../core/ids';
import { ORGANS, organOfCategoryId, type Organ } from '../core/organs';
import { allScans, type BinaryMask, type Dataset, type SliceMasks } from '../core/types';
import { readJsonOrExplain, readTextOrExplain, writeFileAtomic } from '../io/files';
import { openColourMaskPairs } from '../imaging/coco-images';
import { openUwmgi } from '../imaging/uwmgi';
import { annotationToMask, buildCocoDataset, parseCocoDataset, type CocoDataset } from '../masks/coco';
import { csvField, parseCsvRows } from '../masks/csv-text';
import { formatKaggleCsv, parseWideMaskCsv, type KaggleMaskRow } from '../masks/kaggle-csv';
import { decodeKaggleRle, encodeKaggleRle } from '../masks/kaggle-rle';

export type ConvertTarget = 'coco' | 'kaggle' | 'kaggle-wide';
export const CONVERT_TARGETS: readonly ConvertTarget[] = ['coco', 'kaggle', 'kaggle-wide'];

export interface ConvertOptions {
  input: string;
  to: ConvertTarget;
  out: string;
  /** COCO output: polygons instead of compressed RLE. */
  polygons?: boolean;
  /** Folder of colour-coded masks; `input` is then the folder of the images they belong to. */
  masks?: string;
  onProgress?: (done: number, total: number) => void;
}

export interface ConvertSummary {
  input: string;
  out: string;
  to: ConvertTarget;
  slices: number;
  /** Organ masks written (COCO annotations, non-empty CSV RLEs). */
  masks: number;
}

/** One slice of the input; its masks are decoded only when the writer asks, so one slice at a time is held. */
export interface SourceSlice {
  /** UW-Madison slice id, when the source has one (needed for Kaggle output). */
  sliceId?: string;
  /** COCO file_name. */
  fileName: string;
  width: number;
  height: number;
  masks: () => Promise<SliceMasks>;
}

export async function convertFile(opts: ConvertOptions): Promise<ConvertSummary> {
  if (!CONVERT_TARGETS.includes(opts.to)) {
    throw new InputError(opts.to, `unknown target; choose one of ${CONVERT_TARGETS.join(', ')}`);
  }
  const slices = await readSource(opts.input, opts.masks);
  const progress = (done: number): void => opts.onProgress?.(done, slices.length);
  const { text, masks } =
    opts.to === 'coco'
      ? await writeCoco(slices, Boolean(opts.polygons), progress)
      : await writeKaggle(slices, opts.to === 'kaggle-wide', progress);
  await writeFileAtomic(opts.out, text);
  return { input: opts.input, out: opts.out, to: opts.to, slices: slices.length, masks };
}

// ------------------------------------------------------------------------------------------- reading

export async function readSource(input: string, masksDir?: string): Promise<SourceSlice[]> {
  if (masksDir) return colourMaskSlices(input, masksDir);
  const stat = await fs.stat(input).catch(() => undefined);
  if (!stat) throw new InputError(input, 'not found');
  if (stat.isDirectory()) return uwmgiSlices(input);
  if (input.toLowerCase().endsWith('.json')) return cocoSlices(input);
  const text = await readTextOrExplain(input);
  const header = parseCsvRows(text.split(/\r?\n/, 1)[0] ?? '', input)[0]?.fields.map((f) => f.trim()) ?? [];
  if (header.includes('width') && header.includes('height')) return wideCsvSlices(text, input);
  if (header.includes('segmentation')) return uwmgiSlices(path.dirname(input), input);
  throw new InputError(input, 'not a mask CSV: expected id,class,segmentation or id,<organs>,width,height');
}

async function cocoSlices(file: string): Promise<SourceSlice[]> {
  const dataset: CocoDataset = parseCocoDataset(await readJsonOrExplain(file), file);
  const byImage = new Map<number, number[]>();
  dataset.annotations.forEach((ann, i) =>
    byImage.set(ann.image_id, [...(byImage.get(ann.image_id) ?? []), i]),
  );
  return dataset.images.map((image) => ({
    sliceId: (parseSliceId(image.file_name) ?? parseSlicePath(image.file_name))?.sliceId,
    fileName: image.file_name,
    width: image.width,
    height: image.height,
    masks: async () => {
      const masks: SliceMasks = {};
      for (const i of byImage.get(image.id) ?? []) {
        const ann = dataset.annotations[i]!;
        const organ = organOfCategoryId(ann.category_id)!;
        const mask = annotationToMask(ann, image, `${file}: annotations[${i}].segmentation`);
        masks[organ] = masks[organ] ? union(masks[organ], mask) : mask;
      }
      return masks;
    },
  }));
}

function wideCsvSlices(text: string, file: string): SourceSlice[] {
  const rows = parseWideMaskCsv(text, file);
  const paths = pathColumn(text, file);
  return rows.map((row, i) => ({
    sliceId: row.id,
    fileName: paths[i] ?? `${row.id}.png`,
    width: row.width,
    height: row.height,
    masks: async () => kaggleMasks(row.rles, row.width, row.height, `${file} (${row.id})`),
  }));
}

/** The optional `path` column of a wide CSV, cut to the dataset-relative `train/…` part (Windows or POSIX). */
function pathColumn(text: string, file: string): Array<string | undefined> {
  const [header, ...rows] = parseCsvRows(text, file);
  const col = header?.fields.map((f) => f.trim()).indexOf('path') ?? -1;
  if (col < 0) return [];
  return rows.map((row) => {
    const raw = row.fields[col]?.trim().replace(/\\/g, '/');
    if (!raw) return undefined;
    const at = raw.lastIndexOf('/train/');
    return at >= 0 ? raw.slice(at + 1) : raw;
  });
}

/** A Kaggle layout through imaging's UW-Madison reader: slice sizes from the files, masks from the CSV. */
async function uwmgiSlices(root: string, csv?: string): Promise<SourceSlice[]> {
  const dataset = await openUwmgi(root, csv ? { csv } : {});
  return datasetSlices(dataset, dataset.root);
}

/** Every slice of an opened dataset, scan by scan; file names relative to `relativeTo`, with forward slashes. */
function datasetSlices(dataset: Dataset, relativeTo: string): SourceSlice[] {
  return allScans(dataset).flatMap((scan) =>
    scan.slices.map((slice) => ({
      sliceId: parseSliceId(slice.id) ? slice.id : undefined,
      fileName: slice.file ? path.relative(relativeTo, slice.file).split(path.sep).join('/') : slice.id,
      width: slice.width,
      height: slice.height,
      masks: async () => dataset.masks.get(slice.id) ?? {},
    })),
  );
}

/** Colour-mask pairs through imaging's reader; file names `<images folder>/<name>` as COCO exports write them. */
async function colourMaskSlices(imagesDir: string, masksDir: string): Promise<SourceSlice[]> {
  const dataset = await openColourMaskPairs(imagesDir, masksDir);
  return datasetSlices(dataset, path.dirname(path.resolve(imagesDir)));
}

function kaggleMasks(
  rles: Partial<Record<Organ, string>>,
  width: number,
  height: number,
  where: string,
): SliceMasks {
  const masks: SliceMasks = {};
  for (const [organ, rle] of Object.entries(rles) as Array<[Organ, string]>) {
    masks[organ] = { width, height, data: decodeKaggleRle(rle, width, height, `${where} ${organ}`) };
  }
  return masks;
}

function union(a: BinaryMask, b: BinaryMask): BinaryMask {
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i]! | b.data[i]!;
  return { width: a.width, height: a.height, data };
}

// ------------------------------------------------------------------------------------------- writing

async function writeCoco(
  slices: SourceSlice[],
  polygons: boolean,
  progress: (done: number) => void,
): Promise<{ text: string; masks: number }> {
  // Built one slice at a time (then renumbered) so the decoded masks of only one slice are alive.
  const dataset: CocoDataset = buildCocoDataset([], { polygons });
  for (const [i, slice] of slices.entries()) {
    const one = buildCocoDataset([{ ...slice, masks: await slice.masks() }], { polygons });
    dataset.images.push({ ...one.images[0]!, id: i + 1 });
    for (const ann of one.annotations) {
      dataset.annotations.push({ ...ann, id: dataset.annotations.length + 1, image_id: i + 1 });
    }
    progress(i + 1);
  }
  return { text: `${JSON.stringify(dataset)}\n`, masks: dataset.annotations.length };
}

async function writeKaggle(
  slices: SourceSlice[],
  wide: boolean,
  progress: (done: number) => void,
): Promise<{ text: string; masks: number }> {
  const rows: KaggleMaskRow[] = [];
  const wideLines = [`id,${ORGANS.join(',')},width,height`];
  const seen = new Set<string>();
  for (const [i, slice] of slices.entries()) {
    if (!slice.sliceId) {
      throw new InputError(
        slice.fileName,
        'no UW-Madison slice id (caseN_dayD … slice_NNNN) in the name: Kaggle CSV needs one',
      );
    }
    if (seen.has(slice.sliceId)) throw new InputError(slice.fileName, `slice ${slice.sliceId} appears twice`);
    seen.add(slice.sliceId);
    const masks = await slice.masks();
    const rles = ORGANS.map((organ) => {
      const mask = masks[organ];
      return mask && mask.data.some((v) => v !== 0) ? encodeKaggleRle(mask.data) : '';
    });
    ORGANS.forEach((organ, k) => rows.push({ id: slice.sliceId!, organ, rle: rles[k]! }));
    wideLines.push([csvField(slice.sliceId), ...rles.map(csvField), slice.width, slice.height].join(','));
    progress(i + 1);
  }
  const text = wide ? `${wideLines.join('\n')}\n` : formatKaggleCsv(rows, 'segmentation');
  return { text, masks: rows.filter((r) => r.rle !== '').length };
}
