/**
 * The training loop: Adam on BCE + soft Dice, validation by patient after each epoch, ReduceLROnPlateau,
 * early stopping, the best epoch's weights kept (by validation mean Dice), a checkpoint after every epoch
 * so `resume` continues exactly (weights, Adam moments, epoch, learning rate, history), and cancellation
 * through an AbortSignal between steps. With `workers` ≥ 1 the steps and validation run in worker threads
 * (data-parallel over the batch), which both uses the other cores and keeps this thread free for a UI.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../core/errors';
import { ORGANS, type Organ } from '../../core/organs';
import { readJsonOrExplain, writeJsonAtomic } from '../../io/files';
import { diceOf } from '../../metrics/dice';
import type { AugmentConfig } from '../augment';
import type { BackendPreference } from '../backend/select';
import { inProcessRunner, workerRunner, type TrainRunner } from '../parallel/train-runner';
import { trainingBatches, validationBatches, type LabelledSlice, type SampleBuilder } from './dataset';
import { appendHistory, readHistory, truncateHistory, type EpochRecord } from './history';
import { cosineLearningRate, cosineStepLearningRate, type KeepEpoch, type LrSchedule } from './schedule';
import { loadTensors, saveTensors, type NamedTensor } from './weights-file';

export { trainableVariables, trainStep } from '../parallel/train-runner';

export interface LoopOptions {
  epochs: number;
  /** Optimiser steps per epoch; default: enough batches to see each training slice about once. */
  stepsPerEpoch?: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  organFraction: number | null;
  augment: AugmentConfig | null;
  /** Stop after this many epochs without a better validation mean Dice. */
  earlyStopPatience: number;
  /** Multiply the learning rate by `lrFactor` after this many epochs without a lower validation loss. */
  lrPatience: number;
  lrFactor: number;
  minLearningRate: number;
  /**
   * `plateau` (default): ReduceLROnPlateau by lrPatience/lrFactor; `cosine`: decay to minLearningRate per
   * epoch; `cosine-step`: the same decay per optimiser step.
   */
  lrSchedule?: LrSchedule;
  /** The epoch whose weights the model keeps (default `best`); `last` also never stops early. */
  keep?: KeepEpoch;
  /** Where history.jsonl and checkpoint/ go. */
  outDir: string;
  resume: boolean;
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /**
   * Worker threads for the optimizer steps and validation (each takes a share of every batch);
   * 0 or absent: this thread. Each batch needs at least `workers` images to keep them all busy.
   */
  workers?: number;
  /** Backend the workers initialise; default this thread's current backend. */
  backend?: BackendPreference;
  log?: (line: string) => void;
}

export const DEFAULT_LOOP: Omit<LoopOptions, 'outDir' | 'resume' | 'epochs' | 'batchSize' | 'learningRate'> =
  {
    seed: 1,
    organFraction: 0.7,
    augment: null,
    earlyStopPatience: 10,
    lrPatience: 3,
    lrFactor: 0.5,
    minLearningRate: 1e-6,
  };

export interface TrainProgress {
  phase: 'train' | 'validate' | 'epoch-end';
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** Mean training loss so far in this epoch. */
  loss: number;
  learningRate: number;
  record?: EpochRecord;
}

export interface LoopResult {
  /** Last completed epoch (1-based; 0 when none). */
  lastEpoch: number;
  bestEpoch: number | null;
  best: EpochRecord | null;
  history: EpochRecord[];
  cancelled: boolean;
  stoppedEarly: boolean;
  /** Mean number of training images per second over this run's steps. */
  imagesPerSecond: number;
  /** Worker threads that ran the steps (0: this thread). */
  workers: number;
}

export interface TrainingSets {
  train: LabelledSlice[];
  val: LabelledSlice[];
  builder: SampleBuilder;
}

interface LoopState {
  epoch: number;
  learningRate: number;
  bestScore: number | null;
  bestEpoch: number | null;
  epochsSinceBest: number;
  bestPlateauLoss: number | null;
  epochsSincePlateauBest: number;
}

export const CHECKPOINT_DIR = 'checkpoint';

export async function runTraining(
  model: tfl.LayersModel,
  sets: TrainingSets,
  opts: LoopOptions,
): Promise<LoopResult> {
  if (sets.train.length === 0) throw new InputError(opts.outDir, 'no labelled training slices');
  const ckpt = path.join(opts.outDir, CHECKPOINT_DIR);
  const [, height, width, channels] = model.inputs[0]!.shape as number[];
  const steps = opts.stepsPerEpoch ?? Math.max(1, Math.ceil(sets.train.length / opts.batchSize));

  let state: LoopState = {
    epoch: 0,
    learningRate: opts.learningRate,
    bestScore: null,
    bestEpoch: null,
    epochsSinceBest: 0,
    bestPlateauLoss: null,
    epochsSincePlateauBest: 0,
  };
  let optimizerState: NamedTensor[] | null = null;
  if (opts.resume) {
    if (!existsSync(path.join(ckpt, 'state.json'))) {
      throw new InputError(opts.outDir, 'nothing to resume: no checkpoint/state.json from an earlier run');
    }
    state = (await readJsonOrExplain(path.join(ckpt, 'state.json'))) as LoopState;
    const last = await loadTensors(ckpt, 'last');
    model.setWeights(last.map((t) => t.tensor));
    tf.dispose(last.map((t) => t.tensor));
    optimizerState = await loadTensors(ckpt, 'optimizer');
    await truncateHistory(opts.outDir, state.epoch);
  } else {
    await fs.rm(path.join(opts.outDir, 'history.jsonl'), { force: true });
    // A fresh run forgets an earlier run's loop state (other files in checkpoint/ belong to the caller).
    for (const f of ['state.json', 'last', 'best', 'optimizer'].flatMap((n) =>
      n.endsWith('.json') ? [n] : [`${n}.json`, `${n}.bin`],
    )) {
      await fs.rm(path.join(ckpt, f), { force: true });
    }
  }

  const runner = await startRunner(model, state.learningRate, opts);
  if (optimizerState) {
    await runner.setOptimizerWeights(optimizerState);
    tf.dispose(optimizerState.map((t) => t.tensor));
  }
  // Cancelling terminates the workers at once during a step or validation (the unfinished step is
  // dropped); while a checkpoint is written it waits for the next step, so checkpoints are always whole.
  let interruptible = false;
  const interruptibly = async <T>(work: () => Promise<T>): Promise<T> => {
    interruptible = true;
    try {
      return await work();
    } finally {
      interruptible = false;
    }
  };
  const onAbort = (): void => {
    if (interruptible) void runner.close();
  };
  if (runner.workers > 0) opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const shape = [height!, width!, channels!];
    return await epochs(model, sets, opts, runner, interruptibly, state, ckpt, steps, shape);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await runner.close();
  }
}

/** Workers as asked; if they cannot start (e.g. a build without the worker sources), this thread. */
async function startRunner(model: tfl.LayersModel, learningRate: number, opts: LoopOptions) {
  const workers = opts.workers ?? 0;
  if (workers < 1) return inProcessRunner(model, learningRate);
  try {
    return await workerRunner(model, {
      workers,
      learningRate,
      backend: opts.backend ?? (tf.getBackend() as BackendPreference),
    });
  } catch (e) {
    // Never silent: the caller's log, else the console (the app's engine passes no log).
    (opts.log ?? console.warn)(
      `training in this thread: ${workers} worker thread(s) did not start (${(e as Error).message})`,
    );
    return inProcessRunner(model, learningRate);
  }
}

async function epochs(
  model: tfl.LayersModel,
  sets: TrainingSets,
  opts: LoopOptions,
  runner: TrainRunner,
  interruptibly: <T>(work: () => Promise<T>) => Promise<T>,
  state: LoopState,
  ckpt: string,
  steps: number,
  [height, width, channels]: number[],
): Promise<LoopResult> {
  const result: LoopResult = {
    lastEpoch: state.epoch,
    bestEpoch: state.bestEpoch,
    best: null,
    history: await readHistory(opts.outDir),
    cancelled: false,
    stoppedEarly: false,
    imagesPerSecond: 0,
    workers: runner.workers,
  };
  let images = 0;
  let trainMs = 0;

  for (let epoch = state.epoch + 1; epoch <= opts.epochs; epoch++) {
    const t0 = Date.now();
    let lossSum = 0;
    let step = 0;
    const progress = (phase: TrainProgress['phase'], loss: number, record?: EpochRecord): void =>
      opts.onProgress?.({
        phase,
        epoch,
        epochs: opts.epochs,
        step,
        steps,
        loss,
        learningRate: state.learningRate,
        ...(record ? { record } : {}),
      });
    if (opts.lrSchedule === 'cosine') {
      const lr = cosineLearningRate(opts.learningRate, opts.minLearningRate, epoch, opts.epochs);
      if (lr !== state.learningRate) {
        await runner.setLearningRate(lr);
        state.learningRate = lr;
      }
    }
    // Augmentation is drawn here and applied where the step runs (in workers: in parallel, off this thread).
    const batchOptions = { ...opts, deferAugment: true };
    for await (const batch of trainingBatches(
      sets.train,
      sets.builder,
      batchOptions,
      steps,
      opts.seed,
      epoch,
    )) {
      if (opts.signal?.aborted) break;
      if (opts.lrSchedule === 'cosine-step') {
        const lr = cosineStepLearningRate(
          opts.learningRate,
          opts.minLearningRate,
          (epoch - 1) * steps + step,
          opts.epochs * steps,
        );
        await runner.setLearningRate(lr);
        state.learningRate = lr;
      }
      const s0 = Date.now();
      let loss: number;
      try {
        const xShape = [batch.size, height!, width!, channels!];
        const yShape = [batch.size, height!, width!, ORGANS.length];
        loss = await interruptibly(() => runner.step(batch.x, xShape, batch.y, yShape, batch.augment));
      } catch (e) {
        if (opts.signal?.aborted) break; // the workers were terminated mid-step
        throw e;
      }
      trainMs += Date.now() - s0;
      images += batch.size;
      lossSum += loss;
      step++;
      progress('train', lossSum / step);
      // Let timers and abort handlers run between synchronous tfjs steps.
      await new Promise((r) => setImmediate(r));
    }
    if (opts.signal?.aborted) {
      result.cancelled = true;
      break;
    }
    const trainLoss = lossSum / Math.max(1, step);
    progress('validate', trainLoss);
    let val: ValidationResult | null;
    try {
      val = await interruptibly(async () => {
        const v = sets.val.length
          ? await validate(runner, [height!, width!, channels!], sets, opts.batchSize)
          : null;
        await runner.pullWeights(model);
        return v;
      });
    } catch (e) {
      if (!opts.signal?.aborted) throw e;
      result.cancelled = true;
      break;
    }

    // Model selection by validation mean Dice; without validation data, by training loss.
    const score = val ? (val.meanDice ?? 0) : -trainLoss;
    const isBest = opts.keep === 'last' || state.bestScore === null || score > state.bestScore;
    if (isBest) {
      state.bestScore = score;
      state.bestEpoch = epoch;
      state.epochsSinceBest = 0;
      await saveTensors(ckpt, 'best', namedWeights(model));
    } else state.epochsSinceBest++;

    const record: EpochRecord = {
      epoch,
      trainLoss,
      valLoss: val?.loss ?? null,
      valDice: val?.dice ?? null,
      valMeanDice: val?.meanDice ?? null,
      valCorrectEmpty: val?.correctEmpty ?? null,
      learningRate: state.learningRate,
      seconds: (Date.now() - t0) / 1000,
      best: isBest,
      at: new Date().toISOString(),
    };
    await appendHistory(opts.outDir, record);
    result.history.push(record);

    // ReduceLROnPlateau on the validation loss (training loss without validation data).
    const plateauLoss = val ? val.loss : trainLoss;
    if (state.bestPlateauLoss === null || plateauLoss < state.bestPlateauLoss) {
      state.bestPlateauLoss = plateauLoss;
      state.epochsSincePlateauBest = 0;
    } else if (
      ++state.epochsSincePlateauBest >= opts.lrPatience &&
      (opts.lrSchedule ?? 'plateau') === 'plateau'
    ) {
      const lr = Math.max(opts.minLearningRate, state.learningRate * opts.lrFactor);
      if (lr < state.learningRate) {
        await runner.setLearningRate(lr);
        state.learningRate = lr;
      }
      state.epochsSincePlateauBest = 0;
    }

    state.epoch = epoch;
    await saveTensors(ckpt, 'last', namedWeights(model));
    const optimizerWeights = await runner.optimizerWeights();
    await saveTensors(ckpt, 'optimizer', optimizerWeights);
    tf.dispose(optimizerWeights.map((w) => w.tensor));
    await writeJsonAtomic(path.join(ckpt, 'state.json'), state, true);
    result.lastEpoch = epoch;
    progress('epoch-end', trainLoss, record);
    if (state.epochsSinceBest >= opts.earlyStopPatience) {
      result.stoppedEarly = true;
      break;
    }
  }

  // Leave the model holding the kept (best) weights.
  if (existsSync(path.join(ckpt, 'best.json'))) {
    const best = await loadTensors(ckpt, 'best');
    model.setWeights(best.map((t) => t.tensor));
    tf.dispose(best.map((t) => t.tensor));
  }
  result.bestEpoch = state.bestEpoch;
  result.best = result.history.find((r) => r.epoch === state.bestEpoch) ?? null;
  result.imagesPerSecond = trainMs > 0 ? (images * 1000) / trainMs : 0;
  return result;
}

function namedWeights(model: tfl.LayersModel): NamedTensor[] {
  return model.getWeights().map((tensor, i) => ({ name: `w${i}`, tensor }));
}

export interface ValidationResult {
  loss: number;
  /** Dice pooled over all validation slices per organ; null when the organ is absent in truth and prediction. */
  dice: Record<Organ, number | null>;
  meanDice: number | null;
  /** Per organ: share of slices without the organ on which nothing is predicted (1 when there are none). */
  correctEmpty: Record<Organ, number>;
  slices: number;
}

/** Loss and hard (threshold 0.5) Dice on the validation slices at network resolution. */
export async function validate(
  runner: Pick<TrainRunner, 'evaluate'>,
  [height, width, channels]: number[],
  sets: Pick<TrainingSets, 'val' | 'builder'>,
  batchSize: number,
): Promise<ValidationResult> {
  const k = ORGANS.length;
  const counts = ORGANS.map(() => ({ sizeA: 0, sizeB: 0, intersection: 0 }));
  const empty = ORGANS.map(() => ({ slices: 0, correct: 0 }));
  let lossSum = 0;
  let n = 0;
  for await (const batch of validationBatches(sets.val, sets.builder, batchSize)) {
    const { loss, pred: p } = await runner.evaluate(
      batch.x,
      [batch.size, height!, width!, channels!],
      batch.y,
      [batch.size, height!, width!, k],
    );
    lossSum += loss * batch.size;
    const per = height! * width! * k;
    for (let b = 0; b < batch.size; b++) {
      const predPixels = new Array<number>(k).fill(0);
      const truePixels = new Array<number>(k).fill(0);
      for (let i = b * per; i < (b + 1) * per; i++) {
        const c = i % k;
        const inPred = p[i]! >= 0.5 ? 1 : 0;
        const inTrue = batch.y[i]! >= 0.5 ? 1 : 0;
        predPixels[c]! += inPred;
        truePixels[c]! += inTrue;
        counts[c]!.intersection += inPred & inTrue;
      }
      for (let c = 0; c < k; c++) {
        counts[c]!.sizeA += predPixels[c]!;
        counts[c]!.sizeB += truePixels[c]!;
        if (truePixels[c] === 0) {
          empty[c]!.slices++;
          if (predPixels[c] === 0) empty[c]!.correct++;
        }
      }
    }
    n += batch.size;
  }
  const dice = Object.fromEntries(ORGANS.map((o, i) => [o, diceOf(counts[i]!)])) as Record<
    Organ,
    number | null
  >;
  const correctEmpty = Object.fromEntries(
    ORGANS.map((o, i) => [o, empty[i]!.slices ? empty[i]!.correct / empty[i]!.slices : 1]),
  ) as Record<Organ, number>;
  const scored = ORGANS.map((o) => dice[o]).filter((d): d is number => d !== null);
  return {
    loss: lossSum / Math.max(1, n),
    dice,
    meanDice: scored.length ? scored.reduce((a, b) => a + b, 0) / scored.length : null,
    correctEmpty,
    slices: n,
  };
}
