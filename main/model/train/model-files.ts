/**
 * A LayersModel to and from a folder in the standard tfjs layout (model.json with topology and weights
 * manifest + one weights.bin), readable by tf.loadLayersModel anywhere.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../core/errors';
import { readFileOrExplain, readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../../io/files';

export const WEIGHTS_FILE = 'weights.bin';

export async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = artifacts.weightData
        ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
        : new Uint8Array();
      await writeFileAtomic(path.join(dir, WEIGHTS_FILE), weights);
      await writeJsonAtomic(path.join(dir, 'model.json'), {
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

export async function loadLayersModel(dir: string): Promise<tfl.LayersModel> {
  const file = path.join(dir, 'model.json');
  const json = (await readJsonOrExplain(file)) as {
    modelTopology?: object;
    weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  };
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new InputError(file, 'not a tfjs layers model (modelTopology or weightsManifest missing)');
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) buffers.push(await readFileOrExplain(path.join(dir, p)));
  }
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const data = new Uint8Array(total);
  let o = 0;
  for (const b of buffers) {
    data.set(b, o);
    o += b.byteLength;
  }
  try {
    return await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: data.buffer }),
    );
  } catch (e) {
    throw new InputError(file, `cannot load model (${(e as Error).message})`, { cause: e });
  }
}
