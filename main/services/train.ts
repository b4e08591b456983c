/**
 * Train or fine-tune a segmentation model: the one service behind `tractus train` and the app's
 * training screen. Opens the data, splits it by patient, builds (or loads with --init) the network,
 * runs the loop, writes the model folder (model.json + weights + model-card.json + history.jsonl) and
 * registers it in the user's registry. The shipped default model is never written.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../core/errors';
import { ORGANS, type Organ } from '../core/organs';
import { ensureOutputFolder, readJsonOrExplain, writeJsonAtomic } from '../io/files';
import { DEFAULT_AUGMENT, HEAVY_AUGMENT } from '../model/augment';
import {
  buildModel,
  DEFAULT_UNET_SPEC,
  EFFICIENTNET_VARIANTS,
  type ArchSpec,
  type EfficientNetVariant,
  type InputSize,
} from '../model/arch';
import { initBackend, type BackendPreference } from '../model/backend/select';
import { atInputSize } from '../model/resize';
import { MODEL_CARD_FILE, newModelCard, type ModelCard } from '../model/card';
import { FileSystemIOHandler, loadModel, SHIPPED_MODELS_DIR } from '../model/model-io';
import { writeOnnxAfterTraining } from '../model/onnx/save';
import { DEFAULT_NORMALISATION, type NormalisationSpec } from '../model/preprocess';
import { ModelRegistry, type RegisteredModel } from '../model/registry';
import { labelledSlices, oversample, SampleBuilder } from '../model/train/dataset';
import {
  CHECKPOINT_DIR,
  DEFAULT_LOOP,
  runTraining,
  type LoopResult,
  type TrainProgress,
} from '../model/train/loop';
import type { KeepEpoch, LrSchedule } from '../model/train/schedule';
import { openTrainingSource, DEFAULT_OPENERS, type SourceOpeners } from '../model/train/sources';
import { parseValSpec, splitPatients } from '../model/train/split';
import { readDerivedPatients, withoutDerivedFrom } from '../synth/provenance';

export interface TrainJob {
  /** COCO JSON, dataset folder, or a list file of such sources. */
  data: string;
  outDir: string;
  /** Model folder to fine-tune from (its card fixes architecture, input size and preprocessing). */
  init?: string;
  /** `unet` (default), `unet-small`, or `effunet-b0` … `effunet-b7`; ignored with init. */
  arch?: string;
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Default `plateau` on the validation loss. */
  lrSchedule?: LrSchedule;
  /** The epoch whose weights the model keeps (default `best`). */
  keep?: KeepEpoch;
  /** Patient ids ("case1,case2") or a fraction of patients ("0.2"). */
  val?: string;
  resume?: boolean;
  stepsPerEpoch?: number;
  /**
   * Network input side (default 256). With init, a different side fine-tunes the init model's weights at
   * that size (fully convolutional), its field of view kept (see model/resize).
   */
  inputSize?: number;
  /**
   * Millimetres per input pixel for a model trained from scratch (see the card's `input.spacingMm`); with
   * init, only together with another inputSize (default: the init model's field of view kept).
   */
  spacingMm?: number;
  /** 2.5D slice offset for a model trained from scratch (default 2). */
  sliceStride?: number;
  backend?: BackendPreference;
  /** Worker threads for the optimizer steps (0: this thread); default defaultTrainWorkers(backend, …, batch). */
  workers?: number;
  seed?: number;
  augment?: boolean;
  /** Wider augmentation ranges (HEAVY_AUGMENT) for few patients. */
  heavyAugment?: boolean;
  /**
   * More labelled slices for training only (e.g. SynthSeg renderings of real label maps): never validated
   * on, mixed so that `realShare` of the draws come from `data`.
   */
  extra?: string;
  realShare?: number;
  /** What the model card calls the model (default: what it was trained or fine-tuned from). */
  description?: string;
  /** Copy the result into the registry (default true). */
  register?: boolean;
  activate?: boolean;
  registry?: ModelRegistry;
  openers?: SourceOpeners;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  log?: (line: string) => void;
}

export interface TrainOutcome {
  outDir: string;
  card: ModelCard;
  result: LoopResult;
  registered: RegisteredModel | null;
  backend: string;
}

/** What a run fixes at its start, so --resume rebuilds the same network and the same split. */
interface RunConfig {
  architecture: ArchSpec;
  inputSize: InputSize;
  sliceStride: number;
  spacingMm?: number;
  normalisation: NormalisationSpec;
  init: string | null;
  baseModel: string | null;
  valPatients: string[];
  trainPatients: string[];
}

/** Images each replica's batch norm should see at least: what every recipe in models/README.md trained on. */
export const MIN_REPLICA_BATCH = 4;

/**
 * Worker threads a training run uses by default. wasm and cpu run one thread per replica, so one replica
 * per core (at most 2: each replica holds its own model), but only while each replica still gets at least
 * MIN_REPLICA_BATCH images: batch norm takes its statistics from a replica's share, and M's recipe with
 * batches of 4 split 2 + 2 scored 0.754 against 0.821 whole, with the same seed (models/README.md, Mw2).
 * One worker then still keeps the caller's thread free. Native TensorFlow threads its own kernels: one.
 */
export function defaultTrainWorkers(
  backend: string,
  cores = os.availableParallelism(),
  batchSize = 4,
): number {
  if (backend === 'tensorflow') return 1;
  return Math.max(1, Math.min(2, cores, Math.floor(batchSize / MIN_REPLICA_BATCH)));
}

export function archSpecByName(name: string): ArchSpec {
  if (name === 'unet') return DEFAULT_UNET_SPEC;
  if (name === 'unet-small') return archSpecByName('unet-8x4');
  // unet-<first filters>x<levels>, e.g. unet-16x4: filters 16-32-64-128, bilinear upsampling.
  const sized = /^unet-(\d+)x(\d)$/.exec(name);
  if (sized) {
    const first = Number(sized[1]);
    const levels = Number(sized[2]);
    if (first >= 1 && levels >= 2 && levels <= 6) {
      const filters = Array.from({ length: levels }, (_, k) => first * 2 ** k);
      return { ...DEFAULT_UNET_SPEC, filters, upsampling: 'bilinear' };
    }
  }
  const m = /^effunet-(b\d)$/.exec(name);
  if (m && (EFFICIENTNET_VARIANTS as readonly string[]).includes(m[1]!)) {
    return { name: 'effunet', variant: m[1] as EfficientNetVariant, inChannels: 3, outChannels: 3 };
  }
  throw new InputError(
    '--arch',
    `unknown architecture "${name}" (unet, unet-small, unet-<filters>x<levels> e.g. unet-16x4, effunet-b0 … effunet-b7)`,
  );
}

/** A data source as a card names it: by name, not located (a card must not carry this machine's paths). */
function localSource(source: string): string {
  return `local data "${path.basename(path.resolve(source))}"`;
}

/** True when `dir` is `parent` or inside it. */
function isInside(dir: string, parent: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(dir));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export async function train(job: TrainJob): Promise<TrainOutcome> {
  const log = job.log ?? (() => {});
  const outDir = path.resolve(job.outDir);
  if (isInside(outDir, SHIPPED_MODELS_DIR)) {
    throw new InputError(
      job.outDir,
      'is in the shipped models folder (read-only); write training output elsewhere',
    );
  }
  if (job.init && isInside(outDir, job.init)) {
    throw new InputError(job.outDir, `is the --init model folder; fine-tune into a new folder`);
  }
  // a file as --out, or a folder that cannot be written: one line now, not after the training
  await ensureOutputFolder(outDir);
  const backend = await initBackend(job.backend ?? 'auto', log);
  const seed = job.seed ?? 1;

  const dataset = await openTrainingSource(job.data, job.openers ?? DEFAULT_OPENERS);
  const slices = labelledSlices(dataset);
  if (slices.length === 0) throw new InputError(job.data, 'holds no slices with organ masks to train on');

  const configFile = path.join(outDir, CHECKPOINT_DIR, 'config.json');
  let config: RunConfig;
  let model: tfl.LayersModel;
  if (job.resume) {
    if (!existsSync(configFile))
      throw new InputError(job.outDir, 'nothing to resume: no earlier run in this folder');
    config = (await readJsonOrExplain(configFile)) as RunConfig;
    model = buildModel(config.architecture, config.inputSize);
  } else {
    const split = splitPatients(
      slices.map((s) => s.patientId),
      parseValSpec(job.val ?? '0.2'),
      seed,
    );
    let card: ModelCard | null = null;
    if (job.init) {
      ({ model, card } = await loadModel(job.init));
      const side = job.inputSize;
      if (side !== undefined && (side !== card.input.size.width || side !== card.input.size.height)) {
        // The init model's weights at another input size (its field of view kept, or job.spacingMm).
        const resized = atInputSize({ model, card }, { height: side, width: side }, job.spacingMm);
        model.dispose();
        ({ model, card } = resized);
        log(
          `fine-tuning at ${side}²` +
            (card.input.spacingMm ? `, ${card.input.spacingMm.toFixed(3)} mm per pixel` : ''),
        );
      }
    } else {
      const spec = archSpecByName(job.arch ?? 'unet');
      model = buildModel(spec, job.inputSize ?? 256, seed);
    }
    const [, h, w] = model.inputs[0]!.shape as number[];
    const spacingMm = card ? card.input.spacingMm : job.spacingMm;
    config = {
      architecture: card?.architecture ?? archSpecByName(job.arch ?? 'unet'),
      inputSize: card?.input.size ?? { height: h!, width: w! },
      sliceStride: card?.input.sliceStride ?? job.sliceStride ?? 2,
      ...(spacingMm ? { spacingMm } : {}),
      normalisation: card?.input.normalisation ?? DEFAULT_NORMALISATION,
      init: job.init ? path.resolve(job.init) : null,
      baseModel: job.init ? (card?.name ?? path.basename(path.resolve(job.init))) : null,
      valPatients: split.val,
      trainPatients: split.train,
    };
    await writeJsonAtomic(configFile, config, true);
  }
  // synthetic scans made from a validation patient's images or label maps (synth.json) never train
  const extra = job.extra
    ? withoutDerivedFrom(
        labelledSlices(await openTrainingSource(job.extra, job.openers ?? DEFAULT_OPENERS)),
        await readDerivedPatients(job.extra),
        config.valPatients,
      )
    : [];
  const realShare = job.realShare ?? 0.7;
  const trainReal = slices.filter((s) => config.trainPatients.includes(s.patientId));
  const train = [...oversample(trainReal, extra.length, realShare), ...extra];
  const val = slices.filter((s) => config.valPatients.includes(s.patientId));
  const batchSize = job.batchSize ?? 4;
  const workers = job.workers ?? defaultTrainWorkers(backend.name, undefined, batchSize);
  log(
    `training on ${trainReal.length} slices of ${config.trainPatients.length} patients${extra.length ? ` (+ ${extra.length} extra slices, ${Math.round(realShare * 100)} % of draws real)` : ''}, validating on ` +
      `${val.length} slices of ${config.valPatients.length} (${backend.name}, ` +
      `${workers ? `${workers} worker thread${workers > 1 ? 's' : ''}` : 'this thread'})`,
  );

  const builder = new SampleBuilder({
    input: config.inputSize,
    sliceStride: config.sliceStride,
    normalisation: config.normalisation,
    ...(config.spacingMm ? { spacingMm: config.spacingMm } : {}),
  });
  const started = Date.now();
  const epochs = job.epochs ?? 50;
  const result = await runTraining(
    model,
    { train, val, builder },
    {
      ...DEFAULT_LOOP,
      epochs,
      batchSize,
      learningRate: job.learningRate ?? (job.init ? 1e-4 : 1e-3),
      ...(job.lrSchedule ? { lrSchedule: job.lrSchedule } : {}),
      ...(job.keep ? { keep: job.keep } : {}),
      seed,
      augment: job.augment === false ? null : job.heavyAugment ? HEAVY_AUGMENT : DEFAULT_AUGMENT,
      outDir,
      resume: Boolean(job.resume),
      workers,
      backend: backend.name,
      log,
      ...(job.stepsPerEpoch ? { stepsPerEpoch: job.stepsPerEpoch } : {}),
      ...(job.signal ? { signal: job.signal } : {}),
      ...(job.onProgress ? { onProgress: job.onProgress } : {}),
    },
  );

  const best = result.best;
  const organNumbers = (
    rec: Partial<Record<Organ, number | null>> | null | undefined,
  ): Record<Organ, number> =>
    Object.fromEntries(ORGANS.map((o) => [o, rec?.[o] ?? 1])) as Record<Organ, number>;
  const card = newModelCard({
    name: path.basename(outDir),
    description:
      job.description ??
      (config.baseModel ? `Fine-tuned from ${config.baseModel}` : `Trained from scratch on ${job.data}`),
    architecture: config.architecture,
    inputSize: config.inputSize,
    sliceStride: config.sliceStride,
    ...(config.spacingMm ? { spacingMm: config.spacingMm } : {}),
    normalisation: config.normalisation,
    training: {
      summary: `${result.lastEpoch} epochs on ${trainReal.length} slices of ${config.trainPatients.length} patients${extra.length ? ` + ${extra.length} extra training-only slices` : ''}`,
      datasets: [
        {
          name: path.basename(job.data),
          source: localSource(job.data),
          patients: config.trainPatients.length,
          scans: new Set(trainReal.map((s) => s.scan.id)).size,
          slices: trainReal.length,
        },
        ...(job.extra
          ? [
              {
                name: path.basename(job.extra),
                source: `${localSource(job.extra)} (training only)`,
                patients: 0,
                scans: new Set(extra.map((s) => s.scan.id)).size,
                slices: extra.length,
              },
            ]
          : []),
      ],
      provenance: {
        method: config.init ? 'fine-tune' : 'from scratch',
        baseModel: config.baseModel,
        commit: null,
        seed,
      },
      epochs: result.lastEpoch,
      seconds: (Date.now() - started) / 1000,
    },
    validation:
      best && best.valDice
        ? {
            split: 'patient-wise',
            patients: config.valPatients.length,
            slices: val.length,
            dice: organNumbers(best.valDice),
            correctEmpty: organNumbers(best.valCorrectEmpty),
          }
        : null,
    backend: backend.name,
    versions: { [backend.package]: backend.version },
  });
  // Model files beside history.jsonl and checkpoint/ (saveModel would replace the whole folder).
  await model.save(new FileSystemIOHandler(outDir));
  await writeJsonAtomic(path.join(outDir, MODEL_CARD_FILE), card, true);
  await writeOnnxAfterTraining(model, outDir, log);
  model.dispose();

  let registered: RegisteredModel | null = null;
  if (job.register !== false && !result.cancelled) {
    const registry = job.registry ?? new ModelRegistry();
    registered = await registry.register(outDir);
    if (job.activate) await registry.activate(registered.id);
    log(`registered as ${registered.id}${job.activate ? ' (active)' : ''}`);
  }
  return { outDir, card, result, registered, backend: backend.name };
}
