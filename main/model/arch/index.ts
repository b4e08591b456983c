/** Build a segmentation network from its spec: the one entry point training and inference use. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../core/errors';
import { buildEffUnet } from './effunet';
import { downsamplingFactor, type ArchSpec, type InputSize } from './spec';
import { buildUnet } from './unet';

export * from './spec';

/** `inputSize` as a square side or height × width; each side must be a multiple of the down-sampling factor. */
export function buildModel(spec: ArchSpec, inputSize: number | InputSize): tfl.LayersModel {
  const size = typeof inputSize === 'number' ? { height: inputSize, width: inputSize } : inputSize;
  const factor = downsamplingFactor(spec);
  for (const side of [size.height, size.width]) {
    if (!Number.isInteger(side) || side < factor || side % factor !== 0) {
      throw new InputError(
        `architecture ${spec.name}`,
        `input size ${size.height}×${size.width} must be positive multiples of ${factor}`,
      );
    }
  }
  return spec.name === 'unet' ? buildUnet(spec, size) : buildEffUnet(spec, size);
}
