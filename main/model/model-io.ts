/**
 * Model folders on disk: `model.json` (tfjs layers topology + weights manifest), `weights.bin`, and
 * `model-card.json`. tfjs-node's `file://` handler is absent on the wasm and cpu backends, so this is a
 * plain Node file-system IOHandler that works with every backend. Saving writes a whole new folder
 * beside the target and renames it into place, so a crash never leaves a half-written model.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../core/errors';
import { readFileOrExplain, readJsonOrExplain } from '../io/files';
import { MODEL_CARD_FILE, parseModelCard, readModelCard, type ModelCard } from './card';

export const MODEL_JSON_FILE = 'model.json';
export const WEIGHTS_BIN_FILE = 'weights.bin';

/**
 * The read-only models shipped with the app. From source (`main/model/`) and from the bundle
 * (`out/main/`) alike it is `../../models`; a packaged app may instead carry it in its resources folder.
 */
function shippedModelsDir(): string {
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  if (resources && existsSync(path.join(resources, 'models'))) return path.join(resources, 'models');
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');
}

export const SHIPPED_MODELS_DIR = shippedModelsDir();
/** The model `tractus segment` uses when no --model is given. */
export const DEFAULT_MODEL_DIR = path.join(SHIPPED_MODELS_DIR, 'default');

export interface LoadedModel {
  model: tfl.LayersModel;
  card: ModelCard;
  /** Folder the model was loaded from. */
  dir: string;
}

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: tf.io.WeightsManifestConfig;
}

const BYTES_PER_DTYPE: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** Bytes a weight occupies in the .bin file, or undefined when it cannot be known (string weights). */
function weightBytes(spec: tf.io.WeightsManifestEntry): number | undefined {
  const elements = spec.shape.reduce((a, b) => a * b, 1);
  const per = BYTES_PER_DTYPE[spec.quantization?.dtype ?? spec.dtype];
  return per === undefined ? undefined : elements * per;
}

function parseModelJson(value: unknown, file: string): ModelJson {
  const v = value as Partial<ModelJson> | null;
  if (!v || typeof v !== 'object' || typeof v.modelTopology !== 'object' || v.modelTopology === null) {
    throw new InputError(file, 'not a tfjs layers model: "modelTopology" is missing');
  }
  const manifest = v.weightsManifest;
  if (
    !Array.isArray(manifest) ||
    !manifest.every(
      (g) =>
        g &&
        Array.isArray(g.paths) &&
        g.paths.every((p) => typeof p === 'string') &&
        Array.isArray(g.weights) &&
        g.weights.every((w) => w && typeof w.name === 'string' && Array.isArray(w.shape)),
    )
  ) {
    throw new InputError(file, 'not a tfjs layers model: "weightsManifest" is missing or malformed');
  }
  return v as ModelJson;
}

/** Where a manifest's weight file `p` is: in the model folder `dir`, which it must not leave. */
function weightFileIn(dir: string, p: string, modelJson: string): string {
  if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..')) {
    throw new InputError(modelJson, `weights path "${p}" leaves the model folder`);
  }
  return path.join(dir, p);
}

/** The weight files `<dir>/model.json` lists, relative to the folder (checked as loading checks them). */
export async function weightFileNames(dir: string): Promise<string[]> {
  const file = path.join(dir, MODEL_JSON_FILE);
  const names = parseModelJson(await readJsonOrExplain(file), file).weightsManifest.flatMap((g) => g.paths);
  for (const p of names) weightFileIn(dir, p, file);
  return names;
}

/** A tfjs IOHandler reading and writing `model.json` + `weights.bin` in one folder. */
export class FileSystemIOHandler implements tf.io.IOHandler {
  constructor(readonly dir: string) {}

  async load(): Promise<tf.io.ModelArtifacts> {
    const file = path.join(this.dir, MODEL_JSON_FILE);
    const json = parseModelJson(await readJsonOrExplain(file), file);
    const weightSpecs: tf.io.WeightsManifestEntry[] = [];
    const parts: Uint8Array[] = [];
    for (const group of json.weightsManifest) {
      for (const p of group.paths) parts.push(await readFileOrExplain(weightFileIn(this.dir, p, file)));
      weightSpecs.push(...group.weights);
    }
    const total = parts.reduce((n, b) => n + b.byteLength, 0);
    const sizes = weightSpecs.map(weightBytes);
    if (sizes.every((s) => s !== undefined)) {
      const expected = sizes.reduce((a, b) => a! + b!, 0)!;
      if (expected !== total) {
        throw new InputError(
          path.join(this.dir, json.weightsManifest[0]?.paths[0] ?? WEIGHTS_BIN_FILE),
          `weights hold ${total} bytes but model.json describes ${expected} (truncated or mismatched files)`,
        );
      }
    }
    const weightData = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      weightData.set(part, offset);
      offset += part.byteLength;
    }
    return {
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy ?? undefined,
      weightSpecs,
      weightData: weightData.buffer,
    };
  }

  async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error('FileSystemIOHandler saves layers models (JSON topology) only');
    }
    const weights = artifacts.weightData
      ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData))
      : new Uint8Array(0);
    const json: ModelJson = {
      modelTopology: artifacts.modelTopology as object,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [WEIGHTS_BIN_FILE], weights: artifacts.weightSpecs ?? [] }],
    };
    await fs.mkdir(this.dir, { recursive: true });
    await fs.writeFile(path.join(this.dir, WEIGHTS_BIN_FILE), weights);
    await fs.writeFile(path.join(this.dir, MODEL_JSON_FILE), JSON.stringify(json));
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
  }
}

/** Check that the network's input and output shapes are what its card promises. */
function checkModelMatchesCard(model: tfl.LayersModel, card: ModelCard, dir: string): void {
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  const { height, width } = card.input.size;
  const expectIn = [null, height, width, card.architecture.inChannels];
  const expectOut = [null, height, width, card.architecture.outChannels];
  if (
    JSON.stringify(input) !== JSON.stringify(expectIn) ||
    JSON.stringify(output) !== JSON.stringify(expectOut)
  ) {
    throw new InputError(
      dir,
      `model.json (input ${JSON.stringify(input)}, output ${JSON.stringify(output)}) does not match its ` +
        `model card (input ${JSON.stringify(expectIn)}, output ${JSON.stringify(expectOut)})`,
    );
  }
}

/** Load a model folder: card first (cheap, explains what is wrong), then topology and weights. */
export async function loadModel(dir: string): Promise<LoadedModel> {
  const card = await readModelCard(dir);
  let model: tfl.LayersModel;
  try {
    model = await tfl.loadLayersModel(new FileSystemIOHandler(dir));
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      path.join(dir, MODEL_JSON_FILE),
      `cannot build the model (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  try {
    checkModelMatchesCard(model, card, dir);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, card, dir };
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export interface SaveModelOptions {
  /** Replace an existing model folder (the old one is removed only after the new one is in place). */
  overwrite?: boolean;
  /** Release tooling only: allow writing under SHIPPED_MODELS_DIR (e.g. to refresh models/default). */
  allowShippedFolder?: boolean;
}

/**
 * Write model.json, weights.bin and model-card.json to `dir` atomically: everything goes to a temporary
 * sibling folder first, which is then renamed to `dir`. Refuses the shipped models folder, and an
 * existing folder unless `overwrite`.
 */
export async function saveModel(
  model: tfl.LayersModel,
  card: ModelCard,
  dir: string,
  opts: SaveModelOptions = {},
): Promise<void> {
  const target = path.resolve(dir);
  if (!opts.allowShippedFolder && isInside(target, path.resolve(SHIPPED_MODELS_DIR))) {
    throw new InputError(
      target,
      `is inside the shipped models folder (${SHIPPED_MODELS_DIR}); save elsewhere`,
    );
  }
  const checked = parseModelCard(card, `model card for ${target}`);
  checkModelMatchesCard(model, checked, target);
  const exists = existsSync(target);
  if (exists && !opts.overwrite)
    throw new InputError(target, 'already exists (pass overwrite to replace it)');

  const suffix = randomBytes(6).toString('hex');
  const tmp = `${target}.tmp-${suffix}`;
  try {
    await model.save(new FileSystemIOHandler(tmp));
    await fs.writeFile(path.join(tmp, MODEL_CARD_FILE), JSON.stringify(checked, null, 2) + '\n');
    if (exists) {
      const old = `${target}.old-${suffix}`;
      await fs.rename(target, old);
      await fs.rename(tmp, target);
      await fs.rm(old, { recursive: true, force: true });
    } else {
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(tmp, target);
    }
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
