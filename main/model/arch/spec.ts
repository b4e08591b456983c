/**
 * What a segmentation network looks like, as data: the model card stores it, `buildModel` turns it into
 * layers. Input and output channel counts live beside the family-specific fields so one spec fully
 * describes a network; the input size is separate because the same spec serves several resolutions.
 */
import { z } from 'zod';

export const EFFICIENTNET_VARIANTS = ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'] as const;
export type EfficientNetVariant = (typeof EFFICIENTNET_VARIANTS)[number];

/** How a decoder doubles its resolution: bilinear resize (no weights) or a learnt 2×2 transposed conv. */
export type Upsampling = 'bilinear' | 'transpose';

interface ArchCommon {
  /** Input channels: 3 for the 2.5D stack (slices i−s, i, i+s). */
  inChannels: number;
  /** Output channels, one sigmoid map per organ in ORGANS order. */
  outChannels: number;
  /** Initial bias of the output conv: sigmoid(−4) ≈ 0.018, a small foreground prior. */
  outputBias?: number;
  /**
   * Copies of this network averaged as one (see ensemble.ts), each with its own weights; absent: one.
   * Every member has the spec's other fields.
   */
  members?: number;
}

export interface UnetSpec extends ArchCommon {
  name: 'unet';
  /** Filters per resolution level, finest first; the last is the bottleneck. Length = levels. */
  filters: number[];
  upsampling?: Upsampling;
}

export interface EffUnetSpec extends ArchCommon {
  name: 'effunet';
  variant: EfficientNetVariant;
  /** Decoder filters at strides 16, 8, 4, 2, 1. */
  decoderFilters?: number[];
  upsampling?: Upsampling;
}

export type ArchSpec = UnetSpec | EffUnetSpec;

/** Height and width of the network input, in pixels. */
export interface InputSize {
  height: number;
  width: number;
}

export const DEFAULT_OUTPUT_BIAS = -4;
export const DEFAULT_EFFUNET_DECODER = [256, 128, 64, 32, 16];

/** The CPU-friendly default: ~1.9 M parameters at 256². */
export const DEFAULT_UNET_SPEC: UnetSpec = {
  name: 'unet',
  filters: [16, 32, 64, 128, 256],
  upsampling: 'transpose',
  inChannels: 3,
  outChannels: 3,
};

const positiveInt = z.number().int().positive();
const common = {
  inChannels: positiveInt,
  outChannels: positiveInt,
  outputBias: z.number().finite().optional(),
  upsampling: z.enum(['bilinear', 'transpose']).optional(),
  members: z.number().int().min(2).optional(),
};

export const archSpecSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('unet'), filters: z.array(positiveInt).min(2).max(8), ...common }),
  z.object({
    name: z.literal('effunet'),
    variant: z.enum(EFFICIENTNET_VARIANTS),
    decoderFilters: z.array(positiveInt).length(5).optional(),
    ...common,
  }),
]);

export const inputSizeSchema = z.object({ height: positiveInt, width: positiveInt });

/** The factor by which the encoder shrinks the input: input sides must be multiples of it. */
export function downsamplingFactor(spec: ArchSpec): number {
  return spec.name === 'unet' ? 2 ** (spec.filters.length - 1) : 32;
}
