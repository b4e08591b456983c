/** Shared by the parallel-inference and segment-workers tests: a tiny model with varied output, saved. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { buildModel } from '../../main/model/arch';
import { newModelCard } from '../../main/model/card';
import { saveModel } from '../../main/model/model-io';

/** Keeps every thresholded pixel, so the masks show any difference in the probabilities. */
const KEEP_ALL = { threshold: 0.5, gateThreshold: 0.5, gateMinPixels: 1, minComponentPixels: 1 };

/**
 * A 32² U-Net (filters 4-8) with fixed, varied weights (a sine sequence, not random: the same model
 * every run), so its masks differ from slice to slice and organ to organ. Saved to a new folder.
 */
export async function saveTinyVariedModel(): Promise<string> {
  const spec = { name: 'unet' as const, filters: [4, 8], inChannels: 3, outChannels: 3 };
  const model = buildModel(spec, 32);
  let k = 0;
  model.setWeights(
    model.getWeights().map((w) =>
      tf.tidy(() => {
        const values = Float32Array.from({ length: w.size }, () => 0.6 * Math.sin(++k * 1.618));
        return tf.tensor(values, w.shape);
      }),
    ),
  );
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'tractus-infer-')), 'model');
  const card = newModelCard({
    name: 'tiny-varied',
    description: 'test model: fixed varied weights',
    architecture: spec,
    inputSize: { height: 32, width: 32 },
    backend: 'wasm',
    versions: {},
    postprocess: { large_bowel: KEEP_ALL, small_bowel: KEEP_ALL, stomach: KEEP_ALL },
  });
  await saveModel(model, card, dir);
  model.dispose();
  return dir;
}
