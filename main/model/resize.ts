/**
 * A trained network at another input size. The architectures are fully convolutional, so the same weights
 * serve every size the architecture accepts; what changes is how much of a slice each input pixel covers.
 * With a physical spacing on the card, the field of view is kept (mm per pixel scaled by old / new side)
 * unless a spacing is given, so a model can be fine-tuned at a finer input from a coarser one.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../core/errors';
import { buildModel, type InputSize } from './arch';
import type { ModelCard } from './card';

export interface Resized {
  model: tfl.LayersModel;
  card: ModelCard;
}

export function atInputSize(
  loaded: { model: tfl.LayersModel; card: ModelCard },
  size: InputSize,
  spacingMm?: number,
): Resized {
  const { card } = loaded;
  const old = card.input.size;
  const sx = old.width / size.width;
  const sy = old.height / size.height;
  if (card.input.spacingMm !== undefined && spacingMm === undefined && Math.abs(sx - sy) > 1e-9) {
    throw new InputError(
      `input size ${size.height}×${size.width}`,
      `keeps the ${old.height}×${old.width} model's field of view only at the same aspect; give a spacing`,
    );
  }
  const model = buildModel(card.architecture, size);
  model.setWeights(loaded.model.getWeights());
  const spacing = spacingMm ?? (card.input.spacingMm === undefined ? undefined : card.input.spacingMm * sx);
  const { spacingMm: _old, ...input } = card.input;
  return {
    model,
    card: { ...card, input: { ...input, size, ...(spacing === undefined ? {} : { spacingMm: spacing }) } },
  };
}
