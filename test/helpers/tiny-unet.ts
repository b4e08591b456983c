/** The smallest U-Net the model tests build: 2 levels (4 and 8 filters), bilinear, on 16² slices. */
import type { ArchSpec, UnetSpec } from '../../main/model/arch';
import { newModelCard, type ModelCard } from '../../main/model/card';

export const TINY_UNET: UnetSpec = {
  name: 'unet',
  filters: [4, 8],
  upsampling: 'bilinear',
  inChannels: 3,
  outChannels: 3,
};

/** Side of the tiny U-Net's square input, in pixels. */
export const TINY_SIDE = 16;

/** A valid card for a tiny test model (defaults for everything a test does not set). */
export function tinyCard(
  name: string,
  o: { architecture?: ArchSpec; side?: number; spacingMm?: number } = {},
): ModelCard {
  const side = o.side ?? TINY_SIDE;
  return newModelCard({
    name,
    description: `test model ${name}`,
    architecture: o.architecture ?? TINY_UNET,
    inputSize: { height: side, width: side },
    ...(o.spacingMm ? { spacingMm: o.spacingMm } : {}),
    backend: 'cpu',
    versions: {},
  });
}
