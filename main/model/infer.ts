/**
 * Run a loaded model over one scan: 2.5D batches in, per-slice organ masks and scores out at each
 * slice's native size. Every tensor is freed before the next batch, so memory stays flat across scans.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ORGANS, type Organ } from '../core/organs';
import type { Scan, SliceMasks } from '../core/types';
import type { LoadedModel } from './model-io';
import { appliesSlicePrior, priorAllows, scanSliceCount, slicePosition } from './slice-prior';
import { ScanInputs, type LetterboxTransform } from './preprocess';
import { postprocessBatch, type BatchPostprocessJob, type PostprocessedSlice } from './slice-postprocess';
import { cleanScanVolumes, consecutiveSlices, volumeRuleOrgans } from './volume-components';

export interface SliceSegmentation {
  /** Position in scan.slices. */
  index: number;
  id: string;
  width: number;
  height: number;
  masks: SliceMasks;
  /** Mean probability inside each present organ's mask. */
  scores: Partial<Record<Organ, number>>;
  /** 0 (crisp) … 1 (fuzzy), from the probability maps before post-processing (see ./uncertainty). */
  uncertainty: number;
}

export interface ScanSegmentation {
  scanId: string;
  slices: SliceSegmentation[];
  /** Wall-clock seconds for reading, inference and post-processing. */
  seconds: number;
}

export interface SegmentScanOptions {
  /** Slices per forward pass (default 4: larger batches barely help on CPU and cost memory). */
  batch?: number;
  /** Called after each batch with slices done and total. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Called with slices, in order, once their masks are final: after each batch when the card has no 3-D
   * rule (so a caller's encoding overlaps the next forward passes), else once the rules ran on the scan.
   */
  onFinalSlices?: (slices: readonly SliceSegmentation[]) => void;
  /**
   * Once onFinalSlices has seen them, the slices' masks are dropped: the result's slices then carry none
   * (`masks` empty). For a caller that encodes masks as they come: a 144-slice scan's masks (≈ 30 MB at
   * 266²) otherwise stay alive to the end and cost this thread's garbage collector full collections.
   */
  releaseMasks?: boolean;
  /** Stops between batches; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Runs the forward passes elsewhere (e.g. an ONNX Runtime session); default: `model` here. */
  predict?: BatchPredictor;
  /**
   * Runs forward pass and post-processing elsewhere (worker threads, see parallel/infer-pool), so only
   * masks come back; takes precedence over `predict`.
   */
  segment?: BatchSegmenter;
  /**
   * Batches handed to `predict` before the oldest is post-processed (default 1). With N workers, N + 1
   * keeps every worker busy while this thread prepares and post-processes; results stay in slice order.
   */
  inFlight?: number;
}

/**
 * Forward pass of `count` prepared inputs [count, height, width, channels] → probabilities
 * [count, height, width, organs]. May take ownership of (transfer) the input's buffer.
 */
export type BatchPredictor = (data: Float32Array, count: number) => Promise<Float32Array>;

/** Forward pass and post-processing of a batch: each slice's masks, scores and uncertainty. */
export type BatchSegmenter = (
  data: Float32Array,
  count: number,
  job: BatchPostprocessJob,
) => Promise<PostprocessedSlice[]>;

/** A predictor's batches post-processed on the thread that awaits them. */
export function segmenterOf(predict: BatchPredictor): BatchSegmenter {
  return async (data, count, job) => postprocessBatch(await predict(data, count), job);
}

/** The model's forward pass on this thread, every tensor freed before returning. */
export function localPredictor(model: LoadedModel['model'], card: LoadedModel['card']): BatchPredictor {
  const { height, width } = card.input.size;
  return async (data, count) => {
    const shape: [number, number, number, number] = [count, height, width, card.architecture.inChannels];
    const output = tf.tidy(() => model.predict(tf.tensor4d(data, shape)) as tf.Tensor);
    try {
      return (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
  };
}

export const DEFAULT_BATCH = 4;

export async function segmentScan(
  scan: Scan,
  loaded: Pick<LoadedModel, 'model' | 'card'>,
  opts: SegmentScanOptions = {},
): Promise<ScanSegmentation> {
  const started = performance.now();
  const { model, card } = loaded;
  const batchSize = Math.max(1, Math.floor(opts.batch ?? DEFAULT_BATCH));
  const inputs = new ScanInputs(scan, {
    input: card.input.size,
    sliceStride: card.input.sliceStride,
    normalisation: card.input.normalisation,
    spacingMm: card.input.spacingMm,
  });
  const n = scan.slices.length;
  const segment = opts.segment ?? segmenterOf(opts.predict ?? localPredictor(model, card));
  const inFlight = Math.max(1, Math.floor(opts.inFlight ?? 1));
  const slices: SliceSegmentation[] = [];
  // The position prior holds only for scans framed and numbered like the data it was learned on.
  const prior = card.slicePrior && appliesSlicePrior(scan) ? card.slicePrior : null;
  const sliceCount = scanSliceCount(scan.slices);
  const allowedOn = (number: number): Organ[] => {
    if (!prior) return [...ORGANS];
    const position = slicePosition(number, sliceCount);
    return ORGANS.filter((organ) => priorAllows(prior, organ, position));
  };
  // Organs with a 3-D rule (applied once the scan is whole) keep the probabilities inside their masks, so
  // a slice's score can be recomputed over what the rule keeps.
  const volumeOrgans = volumeRuleOrgans(card.postprocess);
  const insideProbs: Array<Partial<Record<Organ, Float32Array>>> = [];
  const queue: Array<{
    start: number;
    count: number;
    transforms: LetterboxTransform[];
    results: Promise<PostprocessedSlice[]>;
  }> = [];
  const handOver = (first: number) => {
    const done = slices.slice(first);
    opts.onFinalSlices?.(done);
    if (opts.releaseMasks) for (const s of done) s.masks = {};
  };
  const finish = async (job: (typeof queue)[number]) => {
    const results = await job.results;
    const first = slices.length;
    results.forEach((r, b) => {
      const info = scan.slices[job.start + b]!;
      insideProbs.push(r.inside);
      slices.push({
        index: job.start + b,
        id: info.id,
        width: job.transforms[b]!.srcWidth,
        height: job.transforms[b]!.srcHeight,
        masks: r.masks,
        scores: r.scores,
        uncertainty: r.uncertainty,
      });
    });
    if (volumeOrgans.length === 0) handOver(first);
    opts.onProgress?.(job.start + job.count, n);
  };
  for (let start = 0; start < n; start += batchSize) {
    opts.signal?.throwIfAborted();
    const count = Math.min(batchSize, n - start);
    const { data, transforms } = await inputs.batch(start, count);
    const results = segment(data, count, {
      transforms,
      allowed: transforms.map((_, b) => allowedOn(scan.slices[start + b]!.number)),
      postprocess: card.postprocess,
      pixelSpacing: scan.pixelSpacing,
      keepInside: volumeOrgans,
    });
    // Marked handled now: if an earlier batch or a slice read fails first, this one is never awaited.
    results.catch(() => undefined);
    queue.push({ start, count, transforms, results });
    if (queue.length >= inFlight) await finish(queue.shift()!);
  }
  while (queue.length > 0) {
    opts.signal?.throwIfAborted();
    await finish(queue.shift()!);
  }
  if (volumeOrgans.length > 0) {
    applyVolumeRules(scan, card.postprocess, volumeOrgans, slices, insideProbs);
    handOver(0);
  }
  return { scanId: scan.id, slices, seconds: (performance.now() - started) / 1000 };
}

/** The card's 3-D rules over the whole scan; a slice's score is then the mean over the pixels kept. */
function applyVolumeRules(
  scan: Scan,
  post: LoadedModel['card']['postprocess'],
  organs: readonly Organ[],
  slices: SliceSegmentation[],
  insideProbs: ReadonlyArray<Partial<Record<Organ, Float32Array>>>,
): void {
  const before = slices.map((s) => ({ ...s.masks }));
  const masks = slices.map((s) => s.masks);
  cleanScanVolumes(masks, consecutiveSlices(slices.map((s) => scan.slices[s.index]!.number)), post);
  slices.forEach((s, z) => {
    for (const organ of organs) {
      const old = before[z]![organ];
      const kept = s.masks[organ];
      if (!kept) delete s.scores[organ];
      if (!old || !kept) continue;
      const inside = insideProbs[z]![organ]!;
      let sum = 0;
      let count = 0;
      for (let i = 0, k = 0; i < old.data.length; i++) {
        if (!old.data[i]) continue;
        if (kept.data[i]) {
          sum += inside[k]!;
          count++;
        }
        k++;
      }
      s.scores[organ] = sum / count;
    }
  });
}
