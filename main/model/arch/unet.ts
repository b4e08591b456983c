/**
 * Compact U-Net: per level two 3×3 conv-BN-ReLU, 2×2 max-pool down, up-sample + skip concat + two convs
 * up. With filters 16-32-64-128-256 it has ~1.9 M parameters and ~6 GFLOP per 256² slice.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { applyTo, convBnAct, decoderBlock, sigmoidHead } from './blocks';
import { DEFAULT_OUTPUT_BIAS, type InputSize, type UnetSpec } from './spec';

export function buildUnet(spec: UnetSpec, size: InputSize): tfl.LayersModel {
  const input = tfl.input({ shape: [size.height, size.width, spec.inChannels], name: 'image' });
  const skips: SymbolicTensor[] = [];
  let x: SymbolicTensor = input;
  spec.filters.forEach((filters, level) => {
    if (level > 0)
      x = applyTo(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `down${level}_pool` }), x);
    x = convBnAct(x, filters, { name: `enc${level}_a` });
    x = convBnAct(x, filters, { name: `enc${level}_b` });
    skips.push(x);
  });
  for (let level = spec.filters.length - 2; level >= 0; level--) {
    x = decoderBlock(x, skips[level], spec.filters[level]!, spec.upsampling ?? 'transpose', `dec${level}`);
  }
  const output = sigmoidHead(x, spec.outChannels, spec.outputBias ?? DEFAULT_OUTPUT_BIAS);
  return tfl.model({ inputs: input, outputs: output, name: 'unet' });
}
