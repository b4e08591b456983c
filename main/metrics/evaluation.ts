/**
 * A whole evaluation: ground-truth images and instances against predicted instances, whatever file formats
 * they came from. Slices group into scans (UW-Madison `caseN_dayD`, ordered by `slice_NNNN`), each scan is
 * decoded, scored (Dice, Hausdorff) and matched (COCO AP), then dropped, so memory holds one scan at a time.
 *
 * Conventions:
 * - The ground truth defines the slice set. Predictions for slices it lacks are dropped by the caller (and
 *   counted); ground-truth slices without a prediction are scored against empty masks.
 * - Several instances of one organ on one slice are OR-ed for Dice and Hausdorff; for AP each is its own
 *   instance (crowd ground truth included in the masks, ignored by AP as pycocotools does).
 * - Hausdorff stacks a scan's ground-truth slices in slice-number order with step 1, whatever the gaps in
 *   slice numbers; D is the number of ground-truth slices of the scan.
 */
import { InputError } from '../core/errors';
import { ORGANS, categoryIdOf, type Organ } from '../core/organs';
import type { BinaryMask, SliceMasks } from '../core/types';
import { encodeUncompressedRle, rleIou, type CocoRle, type UncompressedRle } from '../masks/coco-rle';
import { CocoSegmEvaluator, type CocoSummary } from './coco-eval';
import { countNonZero } from '../core/arrays';
import { SegmentationScorer, type OrganMeans, type SegmentationScore } from './segmentation-score';

export interface EvalImage {
  /** COCO image id (from the COCO file, or 1.. in ground-truth order); AP breaks score ties by it. */
  imageId: number;
  /** `caseN_dayD_slice_NNNN`, or the file name when it carries no UW-Madison id. */
  sliceId: string;
  /** `caseN_dayD`; an image without a UW-Madison id is a scan of its own. */
  scanId: string;
  sliceNumber: number;
  width: number;
  height: number;
}

export type Rle = CocoRle | UncompressedRle;

export interface EvalInstance {
  imageId: number;
  organ: Organ;
  /** Detection score; ground truth and Kaggle predictions use 1. */
  score: number;
  iscrowd: boolean;
  /** Area for the AP area ranges; default: the mask's pixel count (pycocotools takes a GT file's `area`). */
  area?: number;
  /** The mask at its image's size; throws an InputError naming the record when it is malformed. */
  decode: () => BinaryMask;
  /** The COCO RLE when the source has one (used for IoU without re-encoding). */
  rle?: Rle;
}

export interface EvaluationInput {
  images: readonly EvalImage[];
  groundTruth: readonly EvalInstance[];
  prediction: readonly EvalInstance[];
  /** Predicted slices the ground truth does not have (dropped by the caller), for the counts. */
  predictionSlicesNotInGroundTruth?: number;
}

/** The summary's figures as `tractus evaluate --json` prints them: per-category AP keyed by organ name. */
export type CocoReport = Pick<CocoSummary, 'AP' | 'AP50' | 'AP75' | 'APs' | 'APm' | 'APl'> & {
  per_category: Record<Organ, number | null>;
};

/** What `tractus evaluate --json` prints. Fractions in [0, 1]; null where nothing could be scored. */
export interface EvaluationReport {
  dice: OrganMeans;
  hausdorff: OrganMeans;
  score: number | null;
  /** The competition's reading: empties count Dice 1 (slices) and Hausdorff 0 (scans). */
  competition: SegmentationScore['competition'];
  coco: CocoReport;
  counts: SegmentationScore['counts'] & {
    gt_instances: number;
    pred_instances: number;
    pred_slices_not_in_gt: number;
  };
}

export function evaluateSegmentation(
  input: EvaluationInput,
  onScan?: (done: number, total: number) => void,
): EvaluationReport {
  const scans = groupIntoScans(input.images);
  const gtByImage = byImage(input.groundTruth);
  const predByImage = byImage(input.prediction);
  const scorer = new SegmentationScorer();
  const ap = new CocoSegmEvaluator<Rle>(
    ORGANS.map((o) => categoryIdOf(o)),
    (dts, gts, crowd) => rleIou(dts, gts, crowd),
  );
  scans.forEach((scan, done) => {
    const slices = scan.map((image) => {
      const gt = decodeAll(gtByImage.get(image.imageId) ?? [], image);
      const pred = decodeAll(predByImage.get(image.imageId) ?? [], image);
      for (const organ of ORGANS) {
        ap.add(
          image.imageId,
          categoryIdOf(organ),
          gt.filter((d) => d.instance.organ === organ).map(asCocoInstance),
          pred.filter((d) => d.instance.organ === organ).map(asCocoInstance),
        );
      }
      return { id: image.sliceId, gt: unionByOrgan(gt, image), pred: unionByOrgan(pred, image) };
    });
    const first = scan[0]!;
    scorer.addScan({ id: first.scanId, width: first.width, height: first.height, slices });
    onScan?.(done + 1, scans.length);
  });
  const segmentation = scorer.result();
  return {
    dice: segmentation.dice,
    hausdorff: segmentation.hausdorff,
    score: segmentation.score,
    competition: segmentation.competition,
    coco: cocoReport(ap.summarize()),
    counts: {
      ...segmentation.counts,
      gt_instances: input.groundTruth.length,
      pred_instances: input.prediction.length,
      pred_slices_not_in_gt: input.predictionSlicesNotInGroundTruth ?? 0,
    },
  };
}

/** Scans in order of first appearance, each sorted by slice number; checks ids and sizes. */
export function groupIntoScans(images: readonly EvalImage[]): EvalImage[][] {
  const scans = new Map<string, EvalImage[]>();
  const sliceIds = new Set<string>();
  const imageIds = new Set<number>();
  for (const image of images) {
    if (sliceIds.has(image.sliceId))
      throw new InputError(image.sliceId, 'this slice appears twice in the ground truth');
    if (imageIds.has(image.imageId))
      throw new InputError(image.sliceId, `image id ${image.imageId} is used twice`);
    sliceIds.add(image.sliceId);
    imageIds.add(image.imageId);
    const scan = scans.get(image.scanId) ?? [];
    if (scan[0] && (scan[0].width !== image.width || scan[0].height !== image.height)) {
      throw new InputError(
        image.sliceId,
        `is ${image.width}×${image.height} but other slices of ${image.scanId} are ${scan[0].width}×${scan[0].height}`,
      );
    }
    scan.push(image);
    scans.set(image.scanId, scan);
  }
  return [...scans.values()].map((scan) => scan.sort((a, b) => a.sliceNumber - b.sliceNumber));
}

interface Decoded {
  instance: EvalInstance;
  mask: BinaryMask;
}

function decodeAll(instances: readonly EvalInstance[], image: EvalImage): Decoded[] {
  return instances.map((instance) => {
    const mask = instance.decode();
    if (mask.width !== image.width || mask.height !== image.height) {
      throw new InputError(
        image.sliceId,
        `${instance.organ} mask is ${mask.width}×${mask.height}, the slice is ${image.width}×${image.height}`,
      );
    }
    return { instance, mask };
  });
}

function asCocoInstance({ instance, mask }: Decoded) {
  return {
    area: instance.area ?? countNonZero(mask.data),
    iscrowd: instance.iscrowd,
    score: instance.score,
    mask: instance.rle ?? encodeUncompressedRle(mask),
  };
}

function unionByOrgan(decoded: readonly Decoded[], image: EvalImage): SliceMasks {
  const masks: SliceMasks = {};
  for (const { instance, mask } of decoded) {
    const existing = masks[instance.organ];
    if (!existing) {
      masks[instance.organ] = mask;
      continue;
    }
    const merged = new Uint8Array(image.width * image.height);
    for (let i = 0; i < merged.length; i++) merged[i] = existing.data[i]! | mask.data[i]!;
    masks[instance.organ] = { width: image.width, height: image.height, data: merged };
  }
  return masks;
}

function byImage(instances: readonly EvalInstance[]): Map<number, EvalInstance[]> {
  const map = new Map<number, EvalInstance[]>();
  for (const instance of instances) {
    const list = map.get(instance.imageId) ?? [];
    list.push(instance);
    map.set(instance.imageId, list);
  }
  return map;
}

function cocoReport(summary: CocoSummary): CocoReport {
  const { AP, AP50, AP75, APs, APm, APl } = summary;
  const per_category = Object.fromEntries(
    ORGANS.map((o) => [o, summary.perCategory.get(categoryIdOf(o)) ?? null]),
  ) as Record<Organ, number | null>;
  return { AP, AP50, AP75, APs, APm, APl, per_category };
}
