/**
 * A scan's workspace document on disk is a COCO instances dataset of the slices a person corrected
 * (compressed RLE, written by main/masks buildCocoDataset, readable by pycocotools and `tractus train`)
 * with the review state, the latest model output and the edit history in a `tractus` block beside the
 * standard keys (COCO readers ignore keys they do not know).
 *
 *   { info, images, annotations, categories,
 *     tractus: { format: 'tractus-scan', formatVersion: 3, scanId, version, approved,
 *                sliceIds: [slice id of images[0], …], states, history,
 *                runs, base, shelved, viewed, audit } }
 *
 * `runs` are the model outputs (each its own layer), `base` the layer the edits were made on (`truth` or
 * `run:N`), `shelved` edits set aside when another layer became the base, `viewed` the slices shown to a
 * person, `audit` who approved or replaced what, when (./layers). Version-2 files kept only the latest
 * model output (`predictions`); they are read as run 1.
 *
 * Pure conversion (no file access): the store does the reading and writing.
 */
import { InputError } from '../core/errors';
import { ORGANS } from '../core/organs';
import type { SliceMasks } from '../core/types';
import {
  buildCocoDataset,
  cocoToSliceMasks,
  parseCocoDataset,
  type CocoAnnotation,
  type CocoBuildSlice,
  type CocoImage,
} from '../masks/coco';
import type { SliceMasksWire } from '../../preload/api';
import { decodeMask, encodeMask } from '../../preload/wire';
import { runOf, runsFromLegacy } from './layers';
import { cocoScanBlockSchema, type ScanDocument } from './schema';

export const SCAN_FORMAT_VERSION = 3;

/** Where a slice's image is (dataset-relative, '/'-separated) and its size: the COCO image entry. */
export interface SliceDescription {
  fileName: string;
  width: number;
  height: number;
}

export type DescribeSlice = (sliceId: string) => SliceDescription | undefined;

function wireToMasks(wire: SliceMasksWire, where: string): SliceMasks {
  const out: SliceMasks = {};
  for (const organ of ORGANS) {
    const m = wire[organ];
    if (m) out[organ] = decodeMask(m, `${where} ${organ}`);
  }
  return out;
}

function masksToWire(masks: SliceMasks): SliceMasksWire {
  const out: SliceMasksWire = {};
  for (const organ of ORGANS) {
    const m = masks[organ];
    if (m && m.data.some((v) => v !== 0)) out[organ] = encodeMask(m);
  }
  return out;
}

/** Slice ids in a stable order: UW ids are zero-padded, so this is slice order within a scan. */
function orderedSliceIds(doc: ScanDocument): string[] {
  return Object.keys(doc.edits).sort();
}

/**
 * Annotations of one slice's masks, cached by the wire object: wire masks are never changed in place (an
 * edit stores a new object), so an autosave re-encodes only the slice that changed.
 */
export type AnnotationCache = WeakMap<SliceMasksWire, CocoAnnotation[]>;

function sliceAnnotations(
  wire: SliceMasksWire,
  image: Omit<CocoBuildSlice, 'masks'>,
  cache: AnnotationCache | undefined,
  where: string,
): CocoAnnotation[] {
  const hit = cache?.get(wire);
  if (hit) return hit;
  const annotations = buildCocoDataset([{ ...image, masks: wireToMasks(wire, where) }]).annotations;
  cache?.set(wire, annotations);
  return annotations;
}

/** The document as the JSON written to disk. A slice the caller cannot describe keeps its id as name. */
export function scanDocumentToCoco(
  doc: ScanDocument,
  describe: DescribeSlice,
  cache?: AnnotationCache,
): object {
  const sliceIds = orderedSliceIds(doc);
  const images: CocoImage[] = [];
  const annotations: CocoAnnotation[] = [];
  sliceIds.forEach((sliceId, k) => {
    const wire = doc.edits[sliceId]!;
    const known = describe(sliceId);
    const any = ORGANS.map((o) => wire[o]).find((m) => m !== undefined);
    const image = {
      fileName: known?.fileName ?? sliceId,
      width: known?.width ?? any?.width ?? 1,
      height: known?.height ?? any?.height ?? 1,
    };
    images.push({ id: k + 1, file_name: image.fileName, width: image.width, height: image.height });
    for (const a of sliceAnnotations(wire, image, cache, sliceId)) {
      annotations.push({ ...a, id: annotations.length + 1, image_id: k + 1 });
    }
  });
  // The empty dataset gives the standard info/categories blocks, so they are written in one place.
  const { categories } = buildCocoDataset([]);
  return {
    info: { description: `Tractus corrections of scan ${doc.scanId}`, version: String(doc.version) },
    images,
    annotations,
    categories,
    tractus: {
      format: 'tractus-scan',
      formatVersion: SCAN_FORMAT_VERSION,
      scanId: doc.scanId,
      version: doc.version,
      approved: doc.approved,
      sliceIds,
      states: doc.states,
      history: doc.history,
      runs: doc.runs,
      base: doc.base,
      shelved: doc.shelved,
      viewed: doc.viewed,
      audit: doc.audit,
    },
  };
}

/** Read a document written by scanDocumentToCoco; every problem is an InputError naming `where`. */
export function scanDocumentFromCoco(json: unknown, where: string): ScanDocument {
  const block = cocoScanBlockSchema.safeParse((json as { tractus?: unknown } | null)?.tractus);
  if (!block.success) {
    const issue = block.error.issues[0];
    throw new InputError(
      where,
      `not a Tractus scan document (tractus.${issue?.path.join('.') ?? ''}: ${issue?.message})`,
    );
  }
  const coco = parseCocoDataset(json, where);
  const t = block.data;
  if (t.sliceIds.length !== coco.images.length) {
    throw new InputError(
      where,
      `tractus.sliceIds lists ${t.sliceIds.length} slices but there are ${coco.images.length} images`,
    );
  }
  const { runs, base } = t.runs
    ? { runs: t.runs, base: t.base ?? 'truth' }
    : runsFromLegacy(t.predictions, t.history);
  // Decoding proves the stored model output is whole before anything shows it.
  for (const run of runs) {
    for (const [sliceId, wire] of Object.entries(run.predictions)) wireToMasks(wire, `${where}: ${sliceId}`);
  }
  if (base !== 'truth' && !runOf({ runs }, base)) {
    throw new InputError(where, `tractus.base names ${base}, which is not among its model runs`);
  }
  const byImage = cocoToSliceMasks(coco, where);
  const edits: Record<string, SliceMasksWire> = {};
  coco.images.forEach((image, k) => {
    edits[t.sliceIds[k]!] = masksToWire(byImage.get(image.id)!);
  });
  return {
    format: 'tractus-scan',
    formatVersion: 3,
    scanId: t.scanId,
    version: t.version,
    approved: t.approved,
    states: t.states,
    edits,
    history: t.history,
    runs,
    base,
    shelved: t.shelved ?? [],
    viewed: t.viewed ?? [],
    audit: t.audit ?? [],
  };
}
