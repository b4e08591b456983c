/** Build a segmentation network from its spec: the one entry point training and inference use. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../core/errors';
import { buildEffUnet } from './effunet';
import { mergeMembers } from './ensemble';
import { downsamplingFactor, type ArchSpec, type InputSize } from './spec';
import { buildUnet } from './unet';
import { createRng } from '../augment/random';

export * from './spec';

/**
 * `inputSize` as a square side or height × width; each side must be a multiple of the down-sampling factor.
 * `seed`: the initial weights follow from it, so a training run's `--seed` reproduces the run. tfjs's
 * initialisers draw their own seeds from Math.random, so the (synchronous) build runs with Math.random
 * replaced by a seeded stream, restored after. Without it the weights differ on every build.
 */
export function buildModel(spec: ArchSpec, inputSize: number | InputSize, seed?: number): tfl.LayersModel {
  if (spec.members !== undefined) {
    // Each member starts from its own weights (seed, seed + 1, …), as separately trained ones would.
    const { members: count, ...one } = spec;
    const members = Array.from({ length: count }, (_, i) =>
      buildModel(one, inputSize, seed === undefined ? undefined : seed + i),
    );
    try {
      return mergeMembers(members);
    } finally {
      for (const m of members) m.dispose();
    }
  }
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
  const build = () => (spec.name === 'unet' ? buildUnet(spec, size) : buildEffUnet(spec, size));
  if (seed === undefined) return build();
  const unseeded = Math.random;
  Math.random = createRng(seed).next;
  try {
    return build();
  } finally {
    Math.random = unseeded;
  }
}
