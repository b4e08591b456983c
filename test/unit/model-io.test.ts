import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { InputError } from '../../main/core/errors';
import { buildModel } from '../../main/model/arch';
import { newModelCard, type ModelCard } from '../../main/model/card';
import {
  DEFAULT_MODEL_DIR,
  FileSystemIOHandler,
  loadModel,
  saveModel,
  SHIPPED_MODELS_DIR,
} from '../../main/model/model-io';
import { REPO_ROOT } from '../helpers/shared-data';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SPEC = { name: 'unet' as const, filters: [4, 8], inChannels: 3, outChannels: 3 };
const card = (): ModelCard =>
  newModelCard({
    name: 'tiny',
    description: 'test',
    architecture: SPEC,
    inputSize: { height: 16, width: 16 },
    backend: 'cpu',
    versions: {},
  });
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'tractus-modelio-'));

async function rejection(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

async function savedModelDir(): Promise<string> {
  const dir = path.join(tmp(), 'model');
  const model = buildModel(SPEC, 16);
  await saveModel(model, card(), dir);
  model.dispose();
  return dir;
}

describe('model folders', () => {
  it('round-trips weights and card, leaving no temporary folders', async () => {
    const parent = tmp();
    const dir = path.join(parent, 'm');
    const model = buildModel(SPEC, 16);
    const saved = card();
    await saveModel(model, saved, dir);
    expect(readdirSync(dir).sort()).toEqual(['model-card.json', 'model.json', 'weights.bin']);
    expect(readdirSync(parent)).toEqual(['m']);
    const loaded = await loadModel(dir);
    expect(loaded.card).toEqual(
      card() && JSON.parse(readFileSync(path.join(dir, 'model-card.json'), 'utf8')),
    );
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 3);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.model.predict(x) as tf.Tensor;
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.model.dispose();
  });

  it('replaces an existing folder only when asked to', async () => {
    const dir = await savedModelDir();
    const model = buildModel(SPEC, 16);
    const e = await rejection(saveModel(model, card(), dir));
    expect(e.problem).toMatch(/already exists/);
    await saveModel(model, { ...card(), name: 'second' }, dir, { overwrite: true });
    expect((await loadModel(dir)).card.name).toBe('second');
    expect(readdirSync(path.dirname(dir))).toEqual(['model']);
    model.dispose();
  });

  it('refuses to write into the shipped models folder', async () => {
    expect(SHIPPED_MODELS_DIR).toBe(path.join(REPO_ROOT, 'models'));
    expect(DEFAULT_MODEL_DIR).toBe(path.join(REPO_ROOT, 'models', 'default'));
    const model = buildModel(SPEC, 16);
    for (const dir of [DEFAULT_MODEL_DIR, path.join(SHIPPED_MODELS_DIR, 'x', '..', 'other')]) {
      const e = await rejection(saveModel(model, card(), dir));
      expect(e.problem).toMatch(/shipped models folder/);
    }
    expect(existsSync(path.join(SHIPPED_MODELS_DIR, 'other'))).toBe(false);
    model.dispose();
  });

  it('explains truncated weights, missing files, escaping paths and card mismatches', async () => {
    const dir = await savedModelDir();
    truncateSync(path.join(dir, 'weights.bin'), 100);
    expect((await rejection(loadModel(dir))).message).toMatch(/weights\.bin: weights hold 100 bytes but/);

    const noJson = await savedModelDir();
    writeFileSync(path.join(noJson, 'model.json'), '{}');
    expect((await rejection(loadModel(noJson))).problem).toMatch(/modelTopology/);

    const escaping = await savedModelDir();
    const json = JSON.parse(readFileSync(path.join(escaping, 'model.json'), 'utf8'));
    json.weightsManifest[0].paths = ['../../etc/passwd'];
    writeFileSync(path.join(escaping, 'model.json'), JSON.stringify(json));
    expect((await rejection(loadModel(escaping))).problem).toMatch(/leaves the model folder/);

    const mismatch = await savedModelDir();
    const c = JSON.parse(readFileSync(path.join(mismatch, 'model-card.json'), 'utf8'));
    c.input.size = { height: 32, width: 32 };
    writeFileSync(path.join(mismatch, 'model-card.json'), JSON.stringify(c));
    expect((await rejection(loadModel(mismatch))).problem).toMatch(/does not match its model card/);

    expect((await rejection(loadModel(tmp()))).problem).toBe('file not found');
  });

  it('answers any malformed model.json with an InputError', async () => {
    const dir = await savedModelDir();
    const good = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ modelTopology: fc.jsonValue(), weightsManifest: fc.constant(good.weightsManifest) }),
          fc.record({ modelTopology: fc.constant(good.modelTopology), weightsManifest: fc.jsonValue() }),
        ),
        async (value) => {
          writeFileSync(path.join(dir, 'model.json'), JSON.stringify(value));
          const e = await new FileSystemIOHandler(dir)
            .load()
            .then(() => loadModel(dir))
            .then(
              (m) => {
                m.model.dispose();
                return undefined;
              },
              (err: unknown) => err,
            );
          if (e !== undefined) expect(e).toBeInstanceOf(InputError);
        },
      ),
      { numRuns: 60 },
    );
  });
});
