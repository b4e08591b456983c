/**
 * The training data generator: labelled slices of a Dataset → 2.5D network inputs and 3-channel
 * targets at the model's input size, built with the SAME preprocessing as inference (`prepareSlice`,
 * `neighbourIndices`, letterbox), optionally augmented, in seeded batches that over-sample slices that
 * show an organ. Pixels are read lazily; prepared slices sit in a bounded LRU cache.
 */
import { InputError } from '../../core/errors';
import { ORGANS } from '../../core/organs';
import { sliceHasOrgan, type Dataset, type Scan, type SliceMasks } from '../../core/types';
import { augmentSample, sampleAugmentParams } from '../augment';
import type { AugmentConfig, AugmentParams, Planes } from '../augment';
import { createRng } from '../augment/random';
import type { Rng } from '../augment/random';
import {
  DEFAULT_NORMALISATION,
  inputTransform,
  letterbox,
  neighbourSlices,
  prepareSlice,
  type NormalisationSpec,
  type PreparedSlice,
} from '../preprocess';
import { LruCache } from './lru';

/** One slice with ground truth: where its pixels are and which organs it shows. */
export interface LabelledSlice {
  sliceId: string;
  patientId: string;
  scan: Scan;
  /** Index into scan.slices. */
  index: number;
  masks: SliceMasks;
  hasOrgan: boolean;
}

/**
 * Every slice of every scan that carries at least one mask. In such a scan an unlisted slice counts as
 * "no organ" (Kaggle train.csv lists organ-free slices with empty RLE; COCO images may have none).
 */
export function labelledSlices(dataset: Dataset): LabelledSlice[] {
  const out: LabelledSlice[] = [];
  for (const patient of dataset.patients) {
    for (const study of patient.studies) {
      for (const scan of study.scans) {
        if (!scan.slices.some((s) => dataset.masks.has(s.id))) continue;
        scan.slices.forEach((info, index) => {
          const masks = dataset.masks.get(info.id) ?? {};
          out.push({
            sliceId: info.id,
            patientId: patient.id,
            scan,
            index,
            masks,
            hasOrgan: sliceHasOrgan(masks),
          });
        });
      }
    }
  }
  return out;
}

export interface SampleOptions {
  input: { height: number; width: number };
  /** 2.5D slice offset s (channels: i−s, i, i+s), from the model card. */
  sliceStride: number;
  normalisation?: NormalisationSpec;
  /** Millimetres per input pixel (card `input.spacingMm`); absent: each slice is fitted to the input. */
  spacingMm?: number;
  /** Prepared slices kept in memory (each input.height × input.width floats). */
  cacheSlices?: number;
}

export interface Sample {
  /** H×W×3 network input. */
  image: Planes;
  /** H×W×3 targets, 0/1, channels in ORGANS order. */
  masks: Planes;
}

/** Builds one training sample for a labelled slice. */
export class SampleBuilder {
  private readonly cache: LruCache<PreparedSlice>;
  private readonly normalisation: NormalisationSpec;

  constructor(private readonly opts: SampleOptions) {
    this.cache = new LruCache(opts.cacheSlices ?? 256);
    this.normalisation = opts.normalisation ?? DEFAULT_NORMALISATION;
  }

  private prepared(scan: Scan, index: number): Promise<PreparedSlice> {
    return this.cache.getOrLoad(`${scan.id}\u0000${index}`, async () =>
      prepareSlice(await scan.readSlice(index), this.opts.input, this.normalisation, {
        pixelSpacing: scan.pixelSpacing,
        spacingMm: this.opts.spacingMm,
      }),
    );
  }

  async sample(s: LabelledSlice): Promise<Sample> {
    const { height, width } = this.opts.input;
    const n = height * width;
    const idx = neighbourSlices(s.scan.slices, s.index, this.opts.sliceStride);
    const channels = await Promise.all(idx.map((k) => this.prepared(s.scan, k)));
    const image = new Float32Array(n * 3);
    for (let c = 0; c < 3; c++) {
      const src = channels[c]!.pixels;
      for (let p = 0, o = c; p < n; p++, o += 3) image[o] = src[p]!;
    }
    const masks = new Float32Array(n * 3);
    const info = s.scan.slices[s.index]!;
    ORGANS.forEach((organ, c) => {
      const m = s.masks[organ];
      if (!m) return;
      if (m.width !== info.width || m.height !== info.height || m.data.length !== m.width * m.height) {
        throw new InputError(
          s.sliceId,
          `${organ} mask is ${m.width}×${m.height}, slice is ${info.width}×${info.height}`,
        );
      }
      // Resize exactly like the image (same letterbox), then threshold so the target stays binary.
      const t = inputTransform(m.width, m.height, this.opts.input, s.scan.pixelSpacing, this.opts.spacingMm);
      const resized = letterbox(m.data, t);
      for (let p = 0, o = c; p < n; p++, o += 3) masks[o] = resized[p]! >= 0.5 ? 1 : 0;
    });
    return {
      image: { width, height, channels: 3, data: image },
      masks: { width, height, channels: 3, data: masks },
    };
  }
}

export interface BatchOptions {
  batchSize: number;
  /** Share of drawn slices that show at least one organ (when both kinds exist); null = uniform. */
  organFraction: number | null;
  augment: AugmentConfig | null;
  /** Return the drawn augmentation in Batch.augment instead of applying it (training workers apply it). */
  deferAugment?: boolean;
}

export interface Batch {
  /** batch × H × W × 3 inputs. */
  x: Float32Array;
  /** batch × H × W × 3 targets. */
  y: Float32Array;
  size: number;
  /** With deferAugment: per image, the augmentation still to apply to x and y (augmentSample, fill 0). */
  augment?: AugmentParams[];
}

/** Draws slices for one step: over-samples slices with organs to `organFraction`. */
export function drawSlices(
  slices: readonly LabelledSlice[],
  count: number,
  organFraction: number | null,
  rng: Rng,
) {
  const withOrgan = slices.filter((s) => s.hasOrgan);
  const without = slices.filter((s) => !s.hasOrgan);
  const picks: LabelledSlice[] = [];
  for (let i = 0; i < count; i++) {
    if (organFraction === null || withOrgan.length === 0 || without.length === 0) {
      picks.push(slices[rng.int(slices.length)]!);
    } else {
      const pool = rng.next() < organFraction ? withOrgan : without;
      picks.push(pool[rng.int(pool.length)]!);
    }
  }
  return picks;
}

/**
 * Random training batches for one epoch, reproducible from (seed, epoch) so a resumed run draws the
 * same batches the uninterrupted run would have.
 */
export async function* trainingBatches(
  slices: readonly LabelledSlice[],
  builder: SampleBuilder,
  opts: BatchOptions,
  steps: number,
  seed: number,
  epoch: number,
): AsyncGenerator<Batch> {
  if (slices.length === 0) return;
  const rng = createRng((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  for (let step = 0; step < steps; step++) {
    const picks = drawSlices(slices, opts.batchSize, opts.organFraction, rng);
    const samples = await Promise.all(picks.map((s) => builder.sample(s)));
    const cfg = opts.augment;
    const params = cfg
      ? samples.map((s) => sampleAugmentParams(cfg, rng, s.image.width, s.image.height))
      : null;
    if (params && opts.deferAugment) yield { ...packBatch(samples), augment: params };
    else
      yield packBatch(
        params ? samples.map((s, k) => augmentSample(s.image, s.masks, params[k]!, 0)) : samples,
      );
  }
}

/** Fixed validation batches over all given slices, in order, without augmentation. */
export async function* validationBatches(
  slices: readonly LabelledSlice[],
  builder: SampleBuilder,
  batchSize: number,
): AsyncGenerator<Batch> {
  for (let i = 0; i < slices.length; i += batchSize) {
    const samples = await Promise.all(slices.slice(i, i + batchSize).map((s) => builder.sample(s)));
    yield packBatch(samples);
  }
}

function packBatch(samples: Sample[]): Batch {
  const per = samples[0]!.image.data.length;
  const x = new Float32Array(per * samples.length);
  const y = new Float32Array(per * samples.length);
  samples.forEach((s, b) => {
    x.set(s.image.data, b * per);
    y.set(s.masks.data, b * per);
  });
  return { x, y, size: samples.length };
}

/** Repeat `items` so they make about `share` of the result when joined with `others`. */
export function oversample<T>(items: readonly T[], others: number, share: number): T[] {
  if (items.length === 0 || others === 0 || share >= 1) return [...items];
  const copies = Math.max(1, Math.round((share * others) / ((1 - share) * items.length)));
  return Array.from({ length: copies }, () => items).flat();
}
