/** U-Net decoder on an EfficientNet encoder: skips at strides 2/4/8/16, decoded back to full resolution. */
import * as tfl from '@tensorflow/tfjs-layers';
import { decoderBlock, sigmoidHead } from './blocks';
import { buildEfficientNetEncoder } from './efficientnet';
import { DEFAULT_EFFUNET_DECODER, DEFAULT_OUTPUT_BIAS, type EffUnetSpec, type InputSize } from './spec';

export function buildEffUnet(spec: EffUnetSpec, size: InputSize): tfl.LayersModel {
  const input = tfl.input({ shape: [size.height, size.width, spec.inChannels], name: 'image' });
  const { byStride } = buildEfficientNetEncoder(input, spec.variant);
  const [d16, d8, d4, d2, d1] = spec.decoderFilters ?? DEFAULT_EFFUNET_DECODER;
  const mode = spec.upsampling ?? 'bilinear';
  let x = byStride[32];
  x = decoderBlock(x, byStride[16], d16!, mode, 'dec16');
  x = decoderBlock(x, byStride[8], d8!, mode, 'dec8');
  x = decoderBlock(x, byStride[4], d4!, mode, 'dec4');
  x = decoderBlock(x, byStride[2], d2!, mode, 'dec2');
  x = decoderBlock(x, undefined, d1!, mode, 'dec1');
  const output = sigmoidHead(x, spec.outChannels, spec.outputBias ?? DEFAULT_OUTPUT_BIAS);
  return tfl.model({ inputs: input, outputs: output, name: `effunet_${spec.variant}` });
}
