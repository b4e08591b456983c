/**
 * Writes models/default: the stand-in shipped until a trained model replaces it. A randomly initialised
 * compact U-Net whose output bias (−4) keeps every probability near 0.02, so it outlines nothing; its
 * card says so. Run with `node --import tsx main/model/placeholder.ts`.
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { version_layers } from '@tensorflow/tfjs-layers';
import { initBackend } from './backend/select';
import { buildModel, DEFAULT_UNET_SPEC } from './arch';
import { newModelCard } from './card';
import { DEFAULT_MODEL_DIR, saveModel } from './model-io';

export const PLACEHOLDER_INPUT_SIZE = { height: 256, width: 256 };

export async function writePlaceholderModel(dir = DEFAULT_MODEL_DIR): Promise<void> {
  const backend = await initBackend('auto');
  const model = buildModel(DEFAULT_UNET_SPEC, PLACEHOLDER_INPUT_SIZE);
  const card = newModelCard({
    name: 'tractus-default-placeholder',
    description:
      'PLACEHOLDER, NOT TRAINED: a randomly initialised compact U-Net (filters 16-32-64-128-256, 256², 2.5D ' +
      'input) shipped so the pipeline runs end to end. It predicts no organ on any slice. Replace it with a ' +
      'trained model (tractus train) before any real use.',
    architecture: DEFAULT_UNET_SPEC,
    inputSize: PLACEHOLDER_INPUT_SIZE,
    placeholder: true,
    backend: backend.name,
    versions: { tractus: '0.1.0', 'tfjs-core': tf.version_core, 'tfjs-layers': version_layers },
  });
  await saveModel(model, card, dir, { overwrite: true, allowShippedFolder: true });
  model.dispose();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writePlaceholderModel();
  process.stderr.write(`wrote ${DEFAULT_MODEL_DIR}\n`);
}
