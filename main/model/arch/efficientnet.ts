/**
 * EfficientNet encoder (Tan & Le 2019): MBConv blocks — 1×1 expansion, depthwise conv, squeeze-excitation,
 * 1×1 projection, identity skip — with compound scaling of width and depth for B0…B7. Layer choices
 * follow the reference Keras implementation (no conv biases, BN eps 1e-3, SE width = ¼ of the block
 * input) so parameter counts match the published models. Drop-connect is left out: it only acts in
 * training and is not needed for the short fine-tunes Tractus runs.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { applyTo, convBnAct } from './blocks';
import type { EfficientNetVariant } from './spec';

/** One row of the B0 block table (paper, Table 1). */
export interface StageSpec {
  kernel: number;
  strides: number;
  filtersIn: number;
  filtersOut: number;
  expandRatio: number;
  repeats: number;
}

export const B0_STAGES: readonly StageSpec[] = [
  { kernel: 3, strides: 1, filtersIn: 32, filtersOut: 16, expandRatio: 1, repeats: 1 },
  { kernel: 3, strides: 2, filtersIn: 16, filtersOut: 24, expandRatio: 6, repeats: 2 },
  { kernel: 5, strides: 2, filtersIn: 24, filtersOut: 40, expandRatio: 6, repeats: 2 },
  { kernel: 3, strides: 2, filtersIn: 40, filtersOut: 80, expandRatio: 6, repeats: 3 },
  { kernel: 5, strides: 1, filtersIn: 80, filtersOut: 112, expandRatio: 6, repeats: 3 },
  { kernel: 5, strides: 2, filtersIn: 112, filtersOut: 192, expandRatio: 6, repeats: 4 },
  { kernel: 3, strides: 1, filtersIn: 192, filtersOut: 320, expandRatio: 6, repeats: 1 },
];
export const B0_STEM_FILTERS = 32;
export const B0_HEAD_FILTERS = 1280;
export const SE_RATIO = 0.25;

/** Compound-scaling coefficients and the native resolution of each variant. */
export const EFFICIENTNET_SCALING: Record<
  EfficientNetVariant,
  { width: number; depth: number; resolution: number }
> = {
  b0: { width: 1.0, depth: 1.0, resolution: 224 },
  b1: { width: 1.0, depth: 1.1, resolution: 240 },
  b2: { width: 1.1, depth: 1.2, resolution: 260 },
  b3: { width: 1.2, depth: 1.4, resolution: 300 },
  b4: { width: 1.4, depth: 1.8, resolution: 380 },
  b5: { width: 1.6, depth: 2.2, resolution: 456 },
  b6: { width: 1.8, depth: 2.6, resolution: 528 },
  b7: { width: 2.0, depth: 3.1, resolution: 600 },
};

/** Scale a channel count by the width coefficient, rounded to a multiple of 8 and never below 90 %. */
export function roundFilters(filters: number, width: number, divisor = 8): number {
  const scaled = filters * width;
  let rounded = Math.max(divisor, Math.floor((scaled + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

/** Scale a stage's repeat count by the depth coefficient, rounded up. */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(repeats * depth);
}

/** The block table of one variant after compound scaling. */
export function scaledStages(variant: EfficientNetVariant): StageSpec[] {
  const { width, depth } = EFFICIENTNET_SCALING[variant];
  return B0_STAGES.map((s) => ({
    ...s,
    filtersIn: roundFilters(s.filtersIn, width),
    filtersOut: roundFilters(s.filtersOut, width),
    repeats: roundRepeats(s.repeats, depth),
  }));
}

function mbConv(
  x: SymbolicTensor,
  block: { filtersIn: number; filtersOut: number; kernel: number; strides: number; expandRatio: number },
  name: string,
): SymbolicTensor {
  const expanded = block.filtersIn * block.expandRatio;
  let y = x;
  if (block.expandRatio !== 1)
    y = convBnAct(y, expanded, { kernel: 1, activation: 'swish', name: `${name}_expand` });
  y = applyTo(
    tfl.layers.depthwiseConv2d({
      kernelSize: block.kernel,
      strides: block.strides,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: 'heNormal',
      name: `${name}_dw`,
    }),
    y,
  );
  y = applyTo(tfl.layers.batchNormalization({ axis: -1, epsilon: 1e-3, name: `${name}_dw_bn` }), y);
  y = applyTo(tfl.layers.activation({ activation: 'swish', name: `${name}_dw_swish` }), y);

  // Squeeze-excitation: a per-channel gate computed from the globally pooled features.
  const seFilters = Math.max(1, Math.floor(block.filtersIn * SE_RATIO));
  let se = applyTo(tfl.layers.globalAveragePooling2d({ name: `${name}_se_pool` }), y);
  se = applyTo(tfl.layers.reshape({ targetShape: [1, 1, expanded], name: `${name}_se_reshape` }), se);
  se = applyTo(
    tfl.layers.conv2d({ filters: seFilters, kernelSize: 1, activation: 'swish', name: `${name}_se_reduce` }),
    se,
  );
  se = applyTo(
    tfl.layers.conv2d({ filters: expanded, kernelSize: 1, activation: 'sigmoid', name: `${name}_se_expand` }),
    se,
  );
  y = applyTo(tfl.layers.multiply({ name: `${name}_se_gate` }), [y, se]);

  y = convBnAct(y, block.filtersOut, { kernel: 1, activation: 'linear', name: `${name}_project` });
  if (block.strides === 1 && block.filtersIn === block.filtersOut) {
    y = applyTo(tfl.layers.add({ name: `${name}_skip` }), [y, x]);
  }
  return y;
}

export interface EncoderFeatures {
  /** Stage outputs at strides 2, 4, 8, 16 (the decoder's skips) and 32 (its input). */
  byStride: Record<2 | 4 | 8 | 16 | 32, SymbolicTensor>;
  /** The last tensor built: stride-32 features, or the 1×1 head conv when `includeHead`. */
  output: SymbolicTensor;
}

/**
 * Build the encoder on `input`. `includeHead` adds the 1×1 conv to 1280·width channels that the
 * classification network has (the U-Net does not need it; tests use it to compare with the paper).
 */
export function buildEfficientNetEncoder(
  input: SymbolicTensor,
  variant: EfficientNetVariant,
  opts: { includeHead?: boolean } = {},
): EncoderFeatures {
  const { width } = EFFICIENTNET_SCALING[variant];
  let x = convBnAct(input, roundFilters(B0_STEM_FILTERS, width), {
    strides: 2,
    activation: 'swish',
    name: 'stem',
  });
  let stride = 2;
  const byStride: Partial<Record<number, SymbolicTensor>> = {};
  scaledStages(variant).forEach((stage, s) => {
    for (let r = 0; r < stage.repeats; r++) {
      const first = r === 0;
      x = mbConv(
        x,
        {
          filtersIn: first ? stage.filtersIn : stage.filtersOut,
          filtersOut: stage.filtersOut,
          kernel: stage.kernel,
          strides: first ? stage.strides : 1,
          expandRatio: stage.expandRatio,
        },
        `block${s + 1}${String.fromCharCode(97 + r)}`,
      );
    }
    stride *= stage.strides;
    byStride[stride] = x; // later stages at the same stride overwrite: the deepest one is the skip
  });
  let output = x;
  if (opts.includeHead) {
    output = convBnAct(x, roundFilters(B0_HEAD_FILTERS, width), {
      kernel: 1,
      activation: 'swish',
      name: 'top',
    });
  }
  return { byStride: byStride as EncoderFeatures['byStride'], output };
}
