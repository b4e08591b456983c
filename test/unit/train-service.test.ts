import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import { readModelCard } from '../../main/model/card';
import { ModelRegistry } from '../../main/model/registry';
import { loadModel, SHIPPED_MODELS_DIR } from '../../main/model/model-io';
import { readHistory } from '../../main/model/train/history';
import { ensembleModelFolders } from '../../main/services/ensemble';
import { defaultTrainWorkers, train, type TrainJob } from '../../main/services/train';
import { toyDataset } from './train-toy-data';

const temps: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tractus-train-svc-'));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const toy = toyDataset(3, 4, 24);
// The data path must exist; the opener hands back the in-memory toy dataset.
const job = (outDir: string, registry: ModelRegistry, extra: Partial<TrainJob> = {}): TrainJob => ({
  data: path.join(outDir, '..'),
  openers: { coco: async () => toy, folder: async () => toy },
  outDir,
  arch: 'unet-small',
  inputSize: 32,
  epochs: 2,
  stepsPerEpoch: 2,
  batchSize: 2,
  val: 'case102',
  backend: 'wasm',
  registry,
  ...extra,
});

async function weightsOf(dir: string): Promise<Float32Array> {
  const { model } = await loadModel(dir);
  const parts = await Promise.all(model.getWeights().map((w) => w.data() as Promise<Float32Array>));
  model.dispose();
  return Float32Array.from(parts.flatMap((p) => Array.from(p)));
}

describe('default training workers', () => {
  it('one replica per core up to 2 on wasm/cpu while each gets 4 images, one worker on native TensorFlow', () => {
    expect(defaultTrainWorkers('wasm', 2, 8)).toBe(2);
    expect(defaultTrainWorkers('cpu', 8, 16)).toBe(2);
    expect(defaultTrainWorkers('wasm', 1, 8)).toBe(1);
    expect(defaultTrainWorkers('tensorflow', 8, 8)).toBe(1);
    // Batches of 4 (the recipes' size) are not split: batch norm would see 2 images per replica.
    expect(defaultTrainWorkers('wasm', 2, 4)).toBe(1);
    expect(defaultTrainWorkers('wasm', 2, 7)).toBe(1);
    expect(defaultTrainWorkers('wasm', 2)).toBe(1);
  });
});

describe('train service', () => {
  const registry = new ModelRegistry(tmp(), '/nonexistent/shipped');
  let firstOut = '';

  it('trains from scratch: model folder, valid card, history, registered and activated', async () => {
    firstOut = path.join(tmp(), 'run1');
    const outcome = await train(job(firstOut, registry, { activate: true }));
    for (const f of ['model.json', 'weights.bin', 'model-card.json', 'history.jsonl']) {
      expect(existsSync(path.join(firstOut, f))).toBe(true);
    }
    const card = await readModelCard(firstOut);
    expect(card.validation?.split).toBe('patient-wise');
    expect(card.validation?.patients).toBe(1);
    expect(card.training.datasets[0]!.patients).toBe(2);
    expect(card.training.provenance.method).toBe('from scratch');
    expect((await readHistory(firstOut)).map((r) => r.epoch)).toEqual([1, 2]);
    expect(outcome.registered).not.toBeNull();
    // By default the steps run in worker threads, off the caller's (the app's main) thread.
    expect(outcome.result.workers).toBe(defaultTrainWorkers(outcome.backend, undefined, 2));
    expect(outcome.result.workers).toBeGreaterThanOrEqual(1);
    expect(await registry.activeModelDir()).toBe(outcome.registered!.dir);
    // The registry gets the model, not the training checkpoint.
    expect(existsSync(path.join(outcome.registered!.dir, 'checkpoint'))).toBe(false);
  }, 120_000);

  it('--resume continues the epoch count and the history', async () => {
    const out = path.join(tmp(), 'resumable');
    await train(job(out, registry, { epochs: 1, register: false }));
    expect((await readHistory(out)).map((r) => r.epoch)).toEqual([1]);
    const resumed = await train(job(out, registry, { epochs: 3, resume: true, register: false }));
    expect(resumed.result.lastEpoch).toBe(3);
    const history = await readHistory(out);
    expect(history.map((r) => r.epoch)).toEqual([1, 2, 3]);
    expect(readFileSync(path.join(out, 'history.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    await expect(train(job(path.join(tmp(), 'fresh'), registry, { resume: true }))).rejects.toBeInstanceOf(
      InputError,
    );
  }, 120_000);

  it('--init fine-tunes an existing model: same architecture, changed weights, provenance recorded', async () => {
    const out = path.join(tmp(), 'tuned');
    const before = await weightsOf(firstOut);
    const outcome = await train(
      job(out, registry, {
        init: firstOut,
        epochs: 1,
        learningRate: 0.01,
        arch: 'unet',
        inputSize: undefined,
      }),
    );
    const after = await weightsOf(out);
    expect(after.length).toBe(before.length);
    expect(after).not.toEqual(before);
    expect(outcome.card.input.size).toEqual({ height: 32, width: 32 });
    expect(outcome.card.training.provenance).toMatchObject({ method: 'fine-tune', baseModel: 'run1' });
    // The init folder itself is untouched.
    expect(await weightsOf(firstOut)).toEqual(before);
  }, 120_000);

  it('--init with another --input-size fine-tunes the same weights at that size', async () => {
    const out = path.join(tmp(), 'finer');
    const before = await weightsOf(firstOut);
    const outcome = await train(
      job(out, registry, { init: firstOut, epochs: 1, inputSize: 64, register: false }),
    );
    expect(outcome.card.input.size).toEqual({ height: 64, width: 64 });
    const { model } = await loadModel(out);
    expect(model.inputs[0]!.shape).toEqual([null, 64, 64, 3]);
    model.dispose();
    expect((await weightsOf(out)).length).toBe(before.length);
  }, 120_000);

  it('--init from an ensemble fine-tunes all its members together, and --resume rebuilds it', async () => {
    const ensemble = path.join(tmp(), 'ensemble');
    await ensembleModelFolders({ members: [firstOut, firstOut], out: ensemble });
    const before = await weightsOf(ensemble);
    const out = path.join(tmp(), 'ensemble-tuned');
    const fineTune = { init: ensemble, epochs: 1, register: false, arch: 'unet', inputSize: undefined };
    const outcome = await train(job(out, registry, fineTune));
    expect(outcome.card.architecture.members).toBe(2);
    const after = await weightsOf(out);
    expect(after.length).toBe(before.length);
    expect(after).not.toEqual(before);
    const resumed = await train(job(out, registry, { ...fineTune, epochs: 2, resume: true }));
    expect(resumed.result.lastEpoch).toBe(2);
    expect((await weightsOf(out)).length).toBe(before.length);
  }, 120_000);

  it('--extra slices train but are never validated on; the card names the data without a machine path', async () => {
    const out = path.join(tmp(), 'mixed');
    const synthetic = toyDataset(2, 3, 24);
    const lines: string[] = [];
    let opened = 0;
    const outcome = await train(
      job(out, registry, {
        epochs: 1,
        register: false,
        extra: path.join(out, '..'),
        realShare: 0.5,
        spacingMm: 2,
        sliceStride: 1,
        openers: {
          coco: async () => toy,
          // --data is opened first, --extra second.
          folder: async () => (opened++ === 0 ? toy : synthetic),
        },
        log: (l) => lines.push(l),
      }),
    );
    const [real, extra] = outcome.card.training.datasets;
    expect(extra).toMatchObject({ patients: 0, slices: 6 });
    expect(real!.source).not.toContain(path.sep + 'tmp');
    expect(extra!.source).toContain('training only');
    expect(outcome.card.input).toMatchObject({ spacingMm: 2, sliceStride: 1 });
    expect(lines.join('\n')).toMatch(/\+ \d+ extra slices, 50 % of draws real/);
    // Validation stays on the real validation patient only.
    expect(outcome.result.history[0]!.valDice).not.toBeNull();
  }, 120_000);

  it('never writes the shipped default model or the --init folder', async () => {
    await expect(train(job(path.join(SHIPPED_MODELS_DIR, 'default'), registry))).rejects.toThrow(/shipped/);
    await expect(
      train(job(path.join(SHIPPED_MODELS_DIR, 'default', 'sub'), registry)),
    ).rejects.toBeInstanceOf(InputError);
    await expect(train(job(firstOut, registry, { init: firstOut }))).rejects.toThrow(/--init/);
  });
});
