/**
 * Tensors to and from one binary file plus a JSON manifest (tfjs's own weight encoding), for training
 * checkpoints: model weights in `model.getWeights()` order and Adam's moment estimates.
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../core/errors';
import { readFileOrExplain, readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../../io/files';

/** tfjs's NamedTensor (not exported from the package root). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export async function saveTensors(dir: string, name: string, tensors: NamedTensor[]): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeFileAtomic(path.join(dir, `${name}.bin`), new Uint8Array(data));
  await writeJsonAtomic(path.join(dir, `${name}.json`), specs);
}

/** The tensors in the order they were saved. */
export async function loadTensors(dir: string, name: string): Promise<NamedTensor[]> {
  const specsFile = path.join(dir, `${name}.json`);
  const specs = (await readJsonOrExplain(specsFile)) as tf.io.WeightsManifestEntry[];
  if (!Array.isArray(specs)) throw new InputError(specsFile, 'not a weights manifest (expected a list)');
  const bytes = await readFileOrExplain(path.join(dir, `${name}.bin`));
  const expected = specs.reduce((n, s) => n + 4 * (s.shape ?? []).reduce((a, b) => a * b, 1), 0);
  if (bytes.byteLength !== expected) {
    throw new InputError(
      path.join(dir, `${name}.bin`),
      `holds ${bytes.byteLength} bytes, manifest says ${expected}`,
    );
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const map = tf.io.decodeWeights(buffer, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name]! }));
}
