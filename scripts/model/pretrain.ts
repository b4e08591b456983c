/**
 * Experiment script: train a base model from scratch on any dataset the app opens (a SynthSeg or phantom
 * folder in Kaggle layout, a COCO JSON, a list), with a chosen 2.5D slice stride — `tractus train` fixes
 * the stride at 2 for new models, and the shipped model uses 0 (see models/README.md: the real slices we
 * can validate on have no neighbours). Writes a model folder with its card, outside models/.
 *
 *   node --import tsx scripts/model/pretrain.ts --data DIR --out DIR [--arch unet-small] [--size 128]
 *     [--stride 0] [--epochs N] [--steps N] [--batch 4] [--lr 1e-3] [--init DIR] [--seed 1]
 *     [--isolate] [--augment default|heavy]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type * as tfl from '@tensorflow/tfjs-layers';
import { openDataset } from '../../main/imaging/open';
import { buildModel } from '../../main/model/arch';
import { DEFAULT_AUGMENT } from '../../main/model/augment';
import { initBackend } from '../../main/model/backend/select';
import { newModelCard, type ModelCard } from '../../main/model/card';
import { loadModel, saveModel } from '../../main/model/model-io';
import { DEFAULT_NORMALISATION } from '../../main/model/preprocess';
import { labelledSlices, SampleBuilder } from '../../main/model/train/dataset';
import { DEFAULT_LOOP, runTraining } from '../../main/model/train/loop';
import { openTrainingSource } from '../../main/model/train/sources';
import { openCocoDataset } from '../../main/imaging/coco-images';
import { archSpecByName } from '../../main/services/train';
import { lrScheduleOf } from '../../main/cli/options';
import { HEAVY_AUGMENT, isolateSlices, oversample } from '../../main/services/crossval';

const { values: a } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    init: { type: 'string' },
    arch: { type: 'string', default: 'unet-small' },
    size: { type: 'string', default: '128' },
    stride: { type: 'string', default: '0' },
    epochs: { type: 'string', default: '10' },
    steps: { type: 'string', default: '50' },
    batch: { type: 'string', default: '4' },
    lr: { type: 'string', default: '1e-3' },
    'lr-schedule': { type: 'string', default: 'plateau' },
    seed: { type: 'string', default: '1' },
    /** One-slice scans: the real COCO slices have no neighbours (see main/services/crossval.ts). */
    isolate: { type: 'boolean', default: false },
    augment: { type: 'string', default: 'default' },
    /** More labelled slices (e.g. SynthSeg) mixed in, `--real-share` of the draws staying with --data. */
    extra: { type: 'string' },
    'real-share': { type: 'string', default: '0.5' },
  },
});
if (!a.data || !a.out) throw new Error('--data and --out are required');

const backend = await initBackend('wasm', (l) => process.stderr.write(l + '\n'));
const dataset = await openTrainingSource(a.data, { coco: openCocoDataset, folder: (d) => openDataset(d) });
const real = labelledSlices(a.isolate ? isolateSlices(dataset) : dataset);
const extra = a.extra ? labelledSlices(await openDataset(a.extra)) : [];
const slices = [...oversample(real, extra.length, Number(a['real-share'])), ...extra];
const size = Number(a.size);
const stride = Number(a.stride);
let model: tfl.LayersModel;
let base: ModelCard | null = null;
if (a.init) ({ model, card: base } = await loadModel(a.init));
else model = buildModel(archSpecByName(a.arch!), size);
const architecture = base?.architecture ?? archSpecByName(a.arch!);
const inputSize = base?.input.size ?? { height: size, width: size };
const sliceStride = base?.input.sliceStride ?? stride;
const builder = new SampleBuilder({ input: inputSize, sliceStride, normalisation: DEFAULT_NORMALISATION });
process.stderr.write(`${slices.length} slices of ${dataset.patients.length} patients, ${backend.name}\n`);
const started = Date.now();
const result = await runTraining(
  model,
  { train: slices, val: [], builder },
  {
    ...DEFAULT_LOOP,
    epochs: Number(a.epochs),
    stepsPerEpoch: Number(a.steps),
    batchSize: Number(a.batch),
    learningRate: Number(a.lr),
    lrSchedule: lrScheduleOf(a['lr-schedule']!),
    seed: Number(a.seed),
    augment: a.augment === 'heavy' ? HEAVY_AUGMENT : DEFAULT_AUGMENT,
    earlyStopPatience: 1000,
    outDir: path.resolve(a.out + '.run'),
    resume: false,
    onProgress: (p) => {
      if (p.phase === 'epoch-end')
        process.stderr.write(
          `epoch ${p.epoch}: loss ${p.loss.toFixed(4)} lr ${p.learningRate.toExponential(1)} ` +
            `${((Date.now() - started) / 1000).toFixed(0)} s\n`,
        );
    },
  },
);
const seconds = (Date.now() - started) / 1000;
const card = newModelCard({
  name: path.basename(a.out),
  description: `${base ? `Fine-tuned from ${base.name}` : 'Trained from scratch'} on ${a.data}`,
  architecture,
  inputSize,
  sliceStride,
  training: {
    summary:
      `${result.lastEpoch} epochs × ${a.steps} steps × batch ${a.batch} on ${real.length} slices` +
      (a.extra ? ` mixed with ${extra.length} extra slices (${a['real-share']} of draws real)` : ''),
    datasets: [
      {
        name: path.basename(a.data),
        source: path.resolve(a.data),
        patients: dataset.patients.length,
        slices: real.length,
      },
      ...(a.extra
        ? [{ name: path.basename(a.extra), source: path.resolve(a.extra), patients: 0, slices: extra.length }]
        : []),
    ],
    provenance: {
      method: base ? 'fine-tune' : 'from scratch',
      baseModel: base?.name ?? null,
      commit: null,
      seed: Number(a.seed),
    },
    epochs: result.lastEpoch,
    seconds,
  },
  backend: backend.name,
  versions: { [backend.package]: backend.version },
});
await saveModel(model, card, a.out, { overwrite: true });
process.stderr.write(
  `saved ${a.out} after ${seconds.toFixed(0)} s (${result.imagesPerSecond.toFixed(2)} img/s)\n`,
);
