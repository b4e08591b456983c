/**
 * Run a loaded model over one scan: 2.5D batches in, per-slice organ masks and scores out at each
 * slice's native size. Every tensor is freed before the next batch, so memory stays flat across scans.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ORGANS, type Organ } from '../core/organs';
import type { Scan, SliceMasks } from '../core/types';
import type { LoadedModel } from './model-io';
import { postprocessOrgan } from './postprocess';
import { ScanInputs, unletterbox } from './preprocess';

export interface SliceSegmentation {
  /** Position in scan.slices. */
  index: number;
  id: string;
  width: number;
  height: number;
  masks: SliceMasks;
  /** Mean probability inside each present organ's mask. */
  scores: Partial<Record<Organ, number>>;
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
  /** Stops between batches; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export const DEFAULT_BATCH = 4;

export async function segmentScan(
  scan: Scan,
  loaded: Pick<LoadedModel, 'model' | 'card'>,
  opts: SegmentScanOptions = {},
): Promise<ScanSegmentation> {
  const started = performance.now();
  const { model, card } = loaded;
  const { height, width } = card.input.size;
  const batchSize = Math.max(1, Math.floor(opts.batch ?? DEFAULT_BATCH));
  const inputs = new ScanInputs(scan, {
    input: card.input.size,
    sliceStride: card.input.sliceStride,
    normalisation: card.input.normalisation,
  });
  const n = scan.slices.length;
  const channels = ORGANS.length;
  const perImage = height * width * channels;
  const slices: SliceSegmentation[] = [];
  for (let start = 0; start < n; start += batchSize) {
    opts.signal?.throwIfAborted();
    const count = Math.min(batchSize, n - start);
    const { data, transforms } = await inputs.batch(start, count);
    const output = tf.tidy(() => model.predict(tf.tensor4d(data, [count, height, width, 3])) as tf.Tensor);
    let probs: Float32Array;
    try {
      probs = (await output.data()) as Float32Array;
    } finally {
      output.dispose();
    }
    for (let b = 0; b < count; b++) {
      const t = transforms[b]!;
      const info = scan.slices[start + b]!;
      const masks: SliceMasks = {};
      const scores: Partial<Record<Organ, number>> = {};
      ORGANS.forEach((organ, c) => {
        const prob = unletterbox(probs, t, c, channels, b * perImage);
        const r = postprocessOrgan(prob, t.srcWidth, t.srcHeight, card.postprocess[organ], scan.pixelSpacing);
        if (r.mask) {
          masks[organ] = r.mask;
          scores[organ] = r.score;
        }
      });
      slices.push({ index: start + b, id: info.id, width: t.srcWidth, height: t.srcHeight, masks, scores });
    }
    opts.onProgress?.(start + count, n);
  }
  return { scanId: scan.id, slices, seconds: (performance.now() - started) / 1000 };
}
