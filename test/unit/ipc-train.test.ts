/**
 * Fine-tune from the workstation with the REAL engine and a tiny model: reviewed slices become a COCO
 * training set in the workspace (images under their UW-Madison names), the active model is the --init,
 * epochs stream as events with validation Dice per organ, the result is registered but not activated,
 * activation and rollback work, and cancel stops the run without registering anything.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORGANS } from '../../main/core/organs';
import type { SliceMasks } from '../../main/core/types';
import { createEngine } from '../../main/ipc/engine';
import { createHandlers, type Handlers } from '../../main/ipc/handlers';
import { SettingsStore } from '../../main/ipc/settings';
import { readPngSlice } from '../../main/imaging/png';
import { cocoToSliceMasks, parseCocoDataset } from '../../main/masks/coco';
import { buildModel } from '../../main/model/arch';
import { initBackend } from '../../main/model/backend/select';
import { newModelCard } from '../../main/model/card';
import { saveModel } from '../../main/model/model-io';
import { archSpecByName } from '../../main/services/train';
import { generatePhantomScan } from '../../main/synth/phantom';
import { writeUwmgiSlice } from '../../main/imaging/uwmgi';
import { TrainCsvWriter } from '../../main/synth/uw-layout';
import type { Events, TrainEpoch, TrainResult } from '../../preload/api';

const SLICES = 5;
const SIZE = 40;

let tmp: string;
let handlers: Handlers;
const events: Array<[keyof Events, unknown]> = [];
/** What we wrote: pixels and masks per slice id, the independent truth for the training set. */
const written = new Map<string, { file: string; data: Uint16Array; masks: SliceMasks }>();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-ipc-train-'));
  const data = path.join(tmp, 'data');
  const csv = new TrainCsvWriter();
  for (const [k, scanId] of ['case7_day1', 'case8_day1'].entries()) {
    const scan = generatePhantomScan(20 + k, { slices: SLICES, width: SIZE, height: SIZE }, { seed: k + 1 });
    for (let i = 0; i < SLICES; i++) {
      const mm = scan.pixelMm;
      const abs = await writeUwmgiSlice(data, scanId, i + 1, scan.images[i]!, [mm, mm]);
      csv.add(scanId, i + 1, scan.masks[i]!);
      const id = `${scanId}_slice_${String(i + 1).padStart(4, '0')}`;
      const file = path.relative(data, abs).split(path.sep).join('/');
      written.set(id, { file, data: scan.images[i]!.data, masks: scan.masks[i]! });
    }
  }
  await csv.write(data);

  // A tiny "shipped" model (compact U-Net, 32²) stands in for models/default so fine-tuning takes seconds.
  const shipped = path.join(tmp, 'shipped');
  await initBackend('wasm');
  const spec = archSpecByName('unet-small');
  const model = buildModel(spec, 32);
  await saveModel(
    model,
    newModelCard({
      name: 'tiny',
      description: 'test model',
      architecture: spec,
      inputSize: { height: 32, width: 32 },
      backend: 'wasm',
      versions: {},
    }),
    shipped,
  );
  model.dispose();

  handlers = createHandlers({
    engine: createEngine({
      home: path.join(tmp, 'home'),
      shippedModelDir: shipped,
      trainDefaults: { backend: 'wasm', stepsPerEpoch: 1, batchSize: 2 },
    }),
    settings: new SettingsStore(path.join(tmp, 'settings.json')),
    emit: (e, p) => events.push([e, p]),
    transport: 'http',
    version: 'test',
    demoDir: data,
    workspaceBase: path.join(tmp, 'home'),
  });
  await handlers['dataset:open']({ path: data });
}, 120_000);

afterAll(async () => {
  handlers?.jobs.cancelAll();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('fine-tune through the workstation API', () => {
  let result: TrainResult;

  it('refuses to start without reviewed slices', async () => {
    await expect(handlers['train:start']({ epochs: 1, include: ['approved'] })).rejects.toThrow(
      /no approved slices to learn from/,
    );
  });

  it('trains on approved scans: COCO set in the workspace, epoch events, registered, not active', async () => {
    // Through the API nothing was shown on a screen: approve every slice explicitly.
    await handlers['scan:approve']({ scanId: 'case7_day1', approved: true, includeUnviewed: true });
    await handlers['scan:approve']({ scanId: 'case8_day1', approved: true, includeUnviewed: true });
    const { jobId } = await handlers['train:start']({ epochs: 2, include: ['edited', 'approved'] });
    const job = await handlers.jobs.settled(jobId);
    expect(job.error).toBeUndefined();
    expect(job.status).toBe('done');
    result = job.result as TrainResult;

    // Epochs arrive as events and stay on the job summary (a reloaded window redraws from it).
    const epochs = events
      .filter(([e, p]) => e === 'train:epoch' && (p as { jobId: string }).jobId === jobId)
      .map(([, p]) => p as TrainEpoch);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(job.history!.map((e) => e.epoch)).toEqual([1, 2]);
    // Two patients: one is held out, so validation Dice per organ is there (a number in [0, 1] or null
    // for an organ that the validation slices do not show).
    expect(result.validationPatients).toBe(1);
    for (const e of epochs) {
      expect(e.loss).toBeGreaterThan(0);
      expect(e.valLoss).not.toBeNull();
      expect(Object.keys(e.valDice!).sort()).toEqual([...ORGANS].sort());
      for (const organ of ORGANS) {
        const d = e.valDice![organ];
        if (d !== null) expect(d).toBeGreaterThanOrEqual(0);
        if (d !== null) expect(d).toBeLessThanOrEqual(1);
      }
    }

    expect(result.cancelled).toBe(false);
    expect(result.baseModelId).toBeNull(); // fine-tuned from the shipped model
    expect(result.slices).toBe(2 * SLICES);
    // Named by date and data, in the registry id and (whole) in the card shown as the model's name.
    expect(result.title).toMatch(/^fine-tune \d{4}-\d{2}-\d{2}, \d+ slices of case7_day1, case8_day1$/);
    expect(result.modelId).toMatch(/^\d{8}-\d{6}-fine-tune-\d{4}-\d{2}-\d{2}-\d+-slices-of-case7_day1/);
    // The shipped model and the new one scored on the same held-out patient's reviewed slices.
    const c = result.comparison!;
    expect(c.slices).toBe(SLICES);
    expect(c.patients).toHaveLength(1);
    expect([c.current.model, c.candidate.model]).toEqual(['default', result.modelId]);
    for (const score of [c.current, c.candidate]) {
      for (const organ of ORGANS) {
        const d = score.dice[organ];
        if (d !== null) expect(d).toBeGreaterThanOrEqual(0);
        if (d !== null) expect(d).toBeLessThanOrEqual(1);
      }
    }
    expect(c.recommend).toBe(c.candidate.mean !== null && (c.current.mean ?? -1) < c.candidate.mean);
    const models = await handlers['models:list']({});
    expect(models.map((m) => m.id)).toEqual([result.modelId]);
    expect(models[0]!.active).toBe(false);
    expect(models[0]!.note).toBe(result.title);
    expect(existsSync(path.join(result.outDir, 'history.jsonl'))).toBe(true);
    const card = JSON.parse(await readFile(path.join(result.outDir, 'model-card.json'), 'utf8'));
    expect(card.training.provenance.method).toBe('fine-tune');
    expect(card.input.size).toEqual({ height: 32, width: 32 });
  }, 300_000);

  it('the training set is a COCO file beside UW-named images with exactly the reviewed pixels', async () => {
    const summary = await handlers['dataset:current']({});
    expect(path.dirname(path.dirname(path.dirname(result.trainingSet)))).toBe(
      path.join(summary!.workspace, 'training'),
    );
    const coco = parseCocoDataset(JSON.parse(await readFile(result.trainingSet, 'utf8')), result.trainingSet);
    expect(coco.images).toHaveLength(2 * SLICES);
    const masks = cocoToSliceMasks(coco, result.trainingSet);
    for (const image of coco.images) {
      const id = /(case\d+_day\d+)\/scans\/slice_(\d+)/.exec(image.file_name)!;
      const sliceId = `${id[1]}_slice_${id[2]}`;
      const truth = written.get(sliceId)!;
      expect(image.file_name).toBe(truth.file);
      const png = await readPngSlice(path.join(path.dirname(result.trainingSet), image.file_name));
      expect(png.data).toEqual(truth.data);
      for (const organ of ORGANS) {
        const want = truth.masks[organ]?.data ?? new Uint8Array(SIZE * SIZE);
        const got = masks.get(image.id)![organ]?.data ?? new Uint8Array(SIZE * SIZE);
        expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true);
      }
    }
  });

  it('activates the new model and rolls back to the shipped one', async () => {
    const active = await handlers['models:activate']({ id: result.modelId! });
    expect(active.find((m) => m.id === result.modelId)!.active).toBe(true);
    const back = await handlers['models:rollback']({});
    expect(back.every((m) => !m.active)).toBe(true);
  });

  it('cancel stops a run and registers nothing', async () => {
    const { jobId } = await handlers['train:start']({ epochs: 50, include: ['approved'] });
    await handlers['job:cancel']({ jobId });
    const job = await handlers.jobs.settled(jobId);
    expect(job.status).toBe('cancelled');
    expect((await handlers['models:list']({})).map((m) => m.id)).toEqual([result.modelId]);
    const listed = await handlers['jobs:list']({});
    expect(listed.map((j) => j.status)).toEqual(['done', 'cancelled']);
  }, 120_000);
});
