/**
 * One batch of network outputs → each slice's organ masks, scores and uncertainty at native size. Pure
 * (no Node, no DOM), so the inference workers run it beside the forward pass and only masks travel back;
 * segmentScan runs the same function on this thread when there are no workers.
 */
import { ORGANS, type Organ } from '../core/organs';
import type { BinaryMask, PixelBox, SliceMasks } from '../core/types';
import { countNonZero } from '../core/arrays';
import { postprocessOrganIn, type OrganPostprocess } from './postprocess';
import { pixelKernels } from '../kernels/pixels';
import {
  unletterboxBytes,
  unletterboxedSummaryIn,
  unletterboxIn,
  type LetterboxTransform,
} from './preprocess';
import {
  belowThresholdTerms,
  combineUncertainty,
  UNCERTAINTY_THRESHOLD,
  uncertaintyTerms,
  withMassOutside,
  type UncertaintyTerms,
} from './uncertainty';

/** What post-processing one batch needs besides its probabilities (structured-cloneable). */
export interface BatchPostprocessJob {
  /** Where each slice of the batch sits in the network input. */
  transforms: LetterboxTransform[];
  /** Per slice: the organs the position prior allows there (every organ when no prior applies). */
  allowed: Organ[][];
  postprocess: Record<Organ, OrganPostprocess>;
  pixelSpacing: [row: number, column: number] | null;
  /** Organs with a 3-D rule: their probabilities inside the mask are kept, to re-score what the rule keeps. */
  keepInside: Organ[];
}

export interface PostprocessedSlice {
  masks: SliceMasks;
  /** Mean probability inside each present organ's mask. */
  scores: Partial<Record<Organ, number>>;
  /** The probabilities at the mask's pixels, in pixel order (organs of `keepInside` only). */
  inside: Partial<Record<Organ, Float32Array>>;
  /** 0 (crisp) … 1 (fuzzy), see ./uncertainty. */
  uncertainty: number;
}

/**
 * Post-process `probs` [count, height, width, organs] (NHWC) of a batch. The batch is copied once into
 * the WebAssembly kernels' memory, and the organs' maps at native size are made there (read in place, one
 * set of buffers for every batch).
 */
export function postprocessBatch(probs: Float32Array, job: BatchPostprocessJob): PostprocessedSlice[] {
  const count = job.transforms.length;
  const perImage = probs.length / count;
  const channels = ORGANS.length;
  const k = pixelKernels();
  // Room for the batch's largest slice: [inner grid, scratch] of each, and its pixels.
  const needs = job.transforms.map((t) => [...unletterboxBytes(k, t), t.srcWidth * t.srcHeight]);
  const most = (i: number) => Math.max(0, ...needs.map((n) => n[i]!));
  const [probsAt, innerAt, scratch, maskAt, ...mapAt] = k.layout([
    probs.byteLength,
    most(0),
    most(1),
    most(2),
    ...ORGANS.map(() => most(2) * 4),
  ]);
  k.copyIn(probs, probsAt!);
  return job.transforms.map((t, b) => {
    const slice: PostprocessedSlice = { masks: {}, scores: {}, inside: {}, uncertainty: 0 };
    const terms: UncertaintyTerms[] = [];
    ORGANS.forEach((organ, c) => {
      const at = b * perImage;
      // An organ the prior rules out on this slice is not post-processed at all.
      const allowed = job.allowed[b]!.includes(organ);
      const post = job.postprocess[organ];
      // Most organs are absent from most slices, and a present one covers a small part of it. Bilinear
      // values never exceed their sources, so only native pixels with a network value ≥ the lowest
      // threshold used below among their sources can reach it: only those are resampled (and read below),
      // and the rest of the map counts through its mass, summed at the network's size. No such pixel: no
      // mask. (The margin keeps float rounding of the interpolation from mattering.)
      const lowest = allowed ? Math.min(post.threshold, post.gateThreshold) : 1;
      const floor = Math.min(lowest, UNCERTAINTY_THRESHOLD);
      const { mass, region } = unletterboxedSummaryIn(
        k,
        probsAt!,
        t,
        c,
        channels,
        at,
        floor - 1e-6,
        scratch!,
      );
      if (!region) {
        terms.push(belowThresholdTerms(mass));
        return;
      }
      unletterboxIn(k, probsAt!, probs.length, t, c, channels, at, mapAt[c]!, region, innerAt!, scratch!);
      const prob = k.f32(mapAt[c]!, t.srcWidth * t.srcHeight);
      const part = uncertaintyTerms(prob, UNCERTAINTY_THRESHOLD, { width: t.srcWidth, ...region });
      terms.push(withMassOutside(part, mass));
      if (!allowed) return;
      const r = postprocessOrganIn(
        k,
        mapAt[c]!,
        t.srcWidth,
        t.srcHeight,
        post,
        job.pixelSpacing,
        region,
        maskAt!,
      );
      if (r.mask) {
        slice.masks[organ] = r.mask;
        slice.scores[organ] = r.score;
        if (job.keepInside.includes(organ)) slice.inside[organ] = probabilitiesInside(r.mask, prob, region);
      }
    });
    slice.uncertainty = combineUncertainty(terms, t.srcWidth * t.srcHeight);
    return slice;
  });
}

/** The probabilities at a mask's pixels, in pixel order (the mask is 0 outside `box`). */
function probabilitiesInside(mask: BinaryMask, prob: Float32Array, box: PixelBox): Float32Array {
  const out = new Float32Array(countNonZero(mask.data));
  for (let y = box.y0, k = 0; y < box.y1; y++) {
    for (let i = y * mask.width + box.x0, end = y * mask.width + box.x1; i < end; i++) {
      if (mask.data[i]) out[k++] = prob[i]!;
    }
  }
  return out;
}

/** The buffers a slice's results can hand over to another thread instead of copying. */
export function transferablesOf(slices: readonly PostprocessedSlice[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const s of slices) {
    for (const m of Object.values(s.masks)) if (m) out.push(m.data.buffer as ArrayBuffer);
    for (const p of Object.values(s.inside)) if (p) out.push(p.buffer as ArrayBuffer);
  }
  return out;
}
