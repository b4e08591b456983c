/**
 * COCO instance-segmentation AP with the semantics of pycocotools' COCOeval (iouType 'segm'):
 * IoU thresholds .50:.05:.95, 101 recall points, at most 100 detections per image and category, area ranges
 * all/small/medium/large, greedy per-image matching in descending score order (stable for ties), crowd ground
 * truth matchable many times and ignored, the monotone precision envelope, -1 for "no ground truth".
 *
 * Generic over the mask representation: the caller supplies the IoU function (e.g. rleIou on COCO RLE).
 * Images are evaluated as they are added, so only small per-image match tables are kept.
 */

/** numpy.linspace(start, stop, num) exactly: i·step + start, last value = stop (threshold ties depend on it). */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  return Array.from({ length: num }, (_, i) => (i === num - 1 ? stop : i * step + start));
}

export const IOU_THRESHOLDS: readonly number[] = linspace(0.5, 0.95, 10);
export const RECALL_THRESHOLDS: readonly number[] = linspace(0, 1, 101);
export const MAX_DETECTIONS = 100;
export const AREA_RANGES = {
  all: [0, 1e10],
  small: [0, 32 ** 2],
  medium: [32 ** 2, 96 ** 2],
  large: [96 ** 2, 1e10],
} as const satisfies Record<string, readonly [number, number]>;
export type AreaRangeName = keyof typeof AREA_RANGES;
const AREA_NAMES = Object.keys(AREA_RANGES) as AreaRangeName[];

export interface CocoGroundTruth<M> {
  /** Area as the dataset states it (pycocotools uses the annotation's `area` field for ground truth). */
  area: number;
  iscrowd: boolean;
  mask: M;
}

export interface CocoDetection<M> {
  score: number;
  /** Area of the mask (pycocotools computes it from the segmentation for results). */
  area: number;
  mask: M;
}

/**
 * IoU matrix [detection][ground truth] (pycocotools maskUtils.iou, e.g. rleIou); for a crowd ground truth the
 * union is the detection's area.
 */
export type IouFunction<M> = (
  detections: M[],
  groundTruths: M[],
  groundTruthIsCrowd: boolean[],
) => number[][];

export interface CocoSummary {
  /** Mean precision over IoU .50:.95, recall points and categories with ground truth; null if none has any. */
  AP: number | null;
  AP50: number | null;
  AP75: number | null;
  APs: number | null;
  APm: number | null;
  APl: number | null;
  /** Per category id, area 'all', maxDets 100; null when the category has no (non-crowd) ground truth. */
  perCategory: Map<number, number | null>;
}

/** One image × category × area range, as pycocotools' evaluateImg leaves it. */
interface ImageResult {
  imageId: number;
  /** Detection scores, highest first (≤ 100). */
  scores: Float64Array;
  /** [t * D + d]: 1 when detection d matched a ground truth at threshold t. */
  matched: Uint8Array;
  /** [t * D + d]: 1 when detection d is ignored at threshold t. */
  ignored: Uint8Array;
  /** Ground truths that count (not crowd, area in range). */
  countedGroundTruths: number;
}

export class CocoSegmEvaluator<M> {
  /** results[category][areaRange] → one entry per image that has ground truth or detections. */
  private readonly results = new Map<number, ImageResult[][]>();
  private readonly seen = new Set<string>();

  constructor(
    private readonly categoryIds: readonly number[],
    private readonly iou: IouFunction<M>,
  ) {
    for (const c of categoryIds)
      this.results.set(
        c,
        AREA_NAMES.map(() => []),
      );
  }

  /** Add everything of one image and one category; call at most once per (image, category). */
  add(imageId: number, categoryId: number, gts: CocoGroundTruth<M>[], dts: CocoDetection<M>[]): void {
    const byArea = this.results.get(categoryId);
    if (!byArea) return; // not a category of the ground truth: pycocotools does not evaluate it
    const key = `${imageId}/${categoryId}`;
    if (this.seen.has(key)) throw new Error(`image ${imageId} category ${categoryId} added twice`);
    this.seen.add(key);
    if (gts.length === 0 && dts.length === 0) return;

    // Highest score first, stable for ties (numpy mergesort), at most 100.
    const detections = stableSortBy(dts, (d) => -d.score).slice(0, MAX_DETECTIONS);
    const ious = new Float64Array(detections.length * gts.length);
    if (detections.length > 0 && gts.length > 0) {
      const matrix = this.iou(
        detections.map((d) => d.mask),
        gts.map((g) => g.mask),
        gts.map((g) => g.iscrowd),
      );
      matrix.forEach((row, d) => row.forEach((value, g) => (ious[d * gts.length + g] = value)));
    }
    AREA_NAMES.forEach((name, a) => {
      byArea[a]!.push(evaluateImage(imageId, gts, detections, ious, AREA_RANGES[name]));
    });
  }

  summarize(): CocoSummary {
    const t50 = IOU_THRESHOLDS.indexOf(0.5);
    const t75 = IOU_THRESHOLDS.indexOf(0.75);
    const perCategory = new Map<number, number | null>();
    const summary: CocoSummary = {
      AP: null,
      AP50: null,
      AP75: null,
      APs: null,
      APm: null,
      APl: null,
      perCategory,
    };
    const all: number[][] = [[], [], []]; // precision values > -1 for AP, AP50, AP75 (area all)
    const byArea: Record<'small' | 'medium' | 'large', number[]> = { small: [], medium: [], large: [] };
    for (const categoryId of this.categoryIds) {
      const areas = this.results.get(categoryId)!;
      AREA_NAMES.forEach((name, a) => {
        const precision = accumulate(areas[a]!);
        if (!precision) {
          if (name === 'all') perCategory.set(categoryId, null);
          return;
        }
        if (name === 'all') {
          perCategory.set(categoryId, mean(precision.flat()));
          all[0]!.push(...precision.flat());
          all[1]!.push(...precision[t50]!);
          all[2]!.push(...precision[t75]!);
        } else byArea[name].push(...precision.flat());
      });
    }
    summary.AP = meanOrNull(all[0]!);
    summary.AP50 = meanOrNull(all[1]!);
    summary.AP75 = meanOrNull(all[2]!);
    summary.APs = meanOrNull(byArea.small);
    summary.APm = meanOrNull(byArea.medium);
    summary.APl = meanOrNull(byArea.large);
    return summary;
  }
}

/** pycocotools evaluateImg for one area range; `ious[d * G + g]` in the given detection order. */
function evaluateImage<M>(
  imageId: number,
  gts: CocoGroundTruth<M>[],
  dts: CocoDetection<M>[],
  ious: Float64Array,
  [lo, hi]: readonly [number, number],
): ImageResult {
  const G = gts.length;
  const D = dts.length;
  const T = IOU_THRESHOLDS.length;
  const outside = (area: number): boolean => area < lo || area > hi;
  // Ground truths that count come first (stable), the ignored ones last.
  const gtIgnoredOriginal = gts.map((g) => (g.iscrowd || outside(g.area) ? 1 : 0));
  const gtOrder = stableSortBy(
    gts.map((_, i) => i),
    (i) => gtIgnoredOriginal[i]!,
  );
  const gtIgnored = gtOrder.map((i) => gtIgnoredOriginal[i]!);
  const crowd = gtOrder.map((i) => gts[i]!.iscrowd);
  const matched = new Uint8Array(T * D);
  const ignored = new Uint8Array(T * D);
  if (G > 0 && D > 0) {
    for (let t = 0; t < T; t++) {
      const gtTaken = new Uint8Array(G);
      for (let d = 0; d < D; d++) {
        let best = Math.min(IOU_THRESHOLDS[t]!, 1 - 1e-10);
        let m = -1;
        for (let g = 0; g < G; g++) {
          if (gtTaken[g] && !crowd[g]) continue;
          // Matched to a counted ground truth already: ignored ones (sorted last) cannot replace it.
          if (m > -1 && gtIgnored[m] === 0 && gtIgnored[g] === 1) break;
          const value = ious[d * G + gtOrder[g]!]!;
          if (value < best) continue;
          best = value;
          m = g;
        }
        if (m === -1) continue;
        ignored[t * D + d] = gtIgnored[m]!;
        matched[t * D + d] = 1;
        gtTaken[m] = 1;
      }
    }
  }
  // Unmatched detections outside the area range do not count against precision.
  for (let d = 0; d < D; d++) {
    if (!outside(dts[d]!.area)) continue;
    for (let t = 0; t < T; t++) if (!matched[t * D + d]) ignored[t * D + d] = 1;
  }
  return {
    imageId,
    scores: Float64Array.from(dts, (d) => d.score),
    matched,
    ignored,
    countedGroundTruths: gtIgnored.filter((ig) => ig === 0).length,
  };
}

/**
 * pycocotools accumulate for one category and area range at maxDets 100: precision[t][r], or undefined when
 * there is nothing to evaluate or no counted ground truth (pycocotools leaves -1 there).
 */
function accumulate(entries: ImageResult[]): number[][] | undefined {
  if (entries.length === 0) return undefined;
  const images = stableSortBy(entries, (e) => e.imageId); // pycocotools walks images in ascending id order
  const npig = images.reduce((n, e) => n + e.countedGroundTruths, 0);
  if (npig === 0) return undefined;
  // Concatenate all detections, then order by score (stable, so ties keep image order).
  const refs: Array<{ score: number; image: ImageResult; index: number }> = [];
  for (const image of images) {
    for (let i = 0; i < image.scores.length; i++) refs.push({ score: image.scores[i]!, image, index: i });
  }
  const sorted = stableSortBy(refs, (r) => -r.score);
  const nd = sorted.length;
  const R = RECALL_THRESHOLDS.length;
  return IOU_THRESHOLDS.map((_, t) => {
    const recall = new Float64Array(nd);
    const precision = new Float64Array(nd);
    let tp = 0;
    let fp = 0;
    sorted.forEach(({ image, index }, i) => {
      const D = image.scores.length;
      if (!image.ignored[t * D + index]) {
        if (image.matched[t * D + index]) tp++;
        else fp++;
      }
      recall[i] = tp / npig;
      precision[i] = tp / (fp + tp + Number.EPSILON);
    });
    // Precision envelope: make it non-increasing from the right.
    for (let i = nd - 1; i > 0; i--) if (precision[i]! > precision[i - 1]!) precision[i - 1] = precision[i]!;
    // For each recall point, precision at the first detection reaching it (numpy searchsorted 'left'); 0 beyond.
    const q = new Array<number>(R).fill(0);
    let i = 0;
    for (let r = 0; r < R; r++) {
      while (i < nd && recall[i]! < RECALL_THRESHOLDS[r]!) i++;
      if (i >= nd) break;
      q[r] = precision[i]!;
    }
    return q;
  });
}

function stableSortBy<T>(items: readonly T[], key: (item: T) => number): T[] {
  // Array.prototype.sort is stable (ES2019), matching numpy's mergesort on ties.
  return items
    .map((item, i) => ({ item, k: key(item), i }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.item);
}

function mean(values: number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function meanOrNull(values: number[]): number | null {
  return values.length === 0 ? null : mean(values);
}
