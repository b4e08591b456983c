/**
 * Where the training loop's optimizer steps run: in this thread (`workers: 0`, the model is updated in
 * place) or in N worker threads through the data-parallel trainer (each replica takes its share of the
 * batch; the caller's model only receives the weights when it asks, e.g. at epoch end). The loop talks to
 * both through TrainRunner, so checkpoints, resume, learning-rate changes and validation work the same.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { AugmentParams } from '../augment';
import type { BackendPreference } from '../backend/select';
import { adamFromState, adamWithLearningRate, copyAdamState } from '../train/adam-state';
import { segmentationLoss } from '../train/loss';
import type { NamedTensor } from '../train/weights-file';
import { createDataParallelTrainer, type DataParallelTrainer } from './data-parallel';
import { augmentPacked } from './train-augment';
import { flattenTensors, unflattenTensors } from './flat-tensors';

export interface TrainRunner {
  /** Worker threads doing the steps; 0 when they run in this thread. */
  readonly workers: number;
  /**
   * One Adam step on a batch (BN in training mode), after applying `augment` (one parameter set per
   * image) where the step runs; returns the batch loss.
   */
  step(
    x: Float32Array,
    xShape: number[],
    y: Float32Array,
    yShape: number[],
    augment?: AugmentParams[],
  ): Promise<number>;
  /** Inference-mode loss and predictions (row-major, like y) on one batch. */
  evaluate: DataParallelTrainer['evaluate'];
  /** Make `model` hold the trained weights (nothing to do in this thread). */
  pullWeights(model: tfl.LayersModel): Promise<void>;
  setLearningRate(learningRate: number): Promise<void>;
  /** Adam's state as new tensors: the caller disposes them. */
  optimizerWeights(): Promise<NamedTensor[]>;
  setOptimizerWeights(weights: NamedTensor[]): Promise<void>;
  /** Stop: worker threads are terminated, an unfinished step rejects. */
  close(): Promise<void>;
}

/** One optimiser step on one batch (BN in training mode); returns the batch loss. */
export async function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  x: tf.Tensor,
  y: tf.Tensor,
): Promise<number> {
  const cost = optimizer.minimize(
    () => segmentationLoss(y, model.apply(x, { training: true }) as tf.Tensor),
    true,
    variables,
  )!;
  const loss = (await cost.data())[0]!;
  cost.dispose();
  return loss;
}

/** The variables an optimiser step updates, in the model's order. */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** Steps in this thread on `model` itself. */
export function inProcessRunner(model: tfl.LayersModel, learningRate: number): TrainRunner {
  let optimizer = tf.train.adam(learningRate);
  let lr = learningRate;
  let closed = false;
  const variables = trainableVariables(model);
  return {
    workers: 0,
    async step(x, xShape, y, yShape, augment) {
      const batch = augment ? augmentPacked(x, xShape, y, yShape, augment) : { x, y };
      const xt = tf.tensor(batch.x, xShape);
      const yt = tf.tensor(batch.y, yShape);
      try {
        return await trainStep(model, optimizer, variables, xt, yt);
      } finally {
        tf.dispose([xt, yt]);
      }
    },
    async evaluate(x, xShape, y, yShape) {
      const { pred, loss } = tf.tidy(() => {
        const p = model.predict(tf.tensor(x, xShape)) as tf.Tensor;
        return { pred: p, loss: segmentationLoss(tf.tensor(y, yShape), p) };
      });
      const out = { loss: (await loss.data())[0]!, pred: (await pred.data()) as Float32Array };
      tf.dispose([pred, loss]);
      return out;
    },
    pullWeights: async () => {},
    async setLearningRate(next) {
      optimizer = await adamWithLearningRate(optimizer, next);
      lr = next;
    },
    optimizerWeights: () => copyAdamState(optimizer),
    async setOptimizerWeights(weights) {
      const next = await adamFromState(lr, weights);
      optimizer.dispose();
      optimizer = next;
    },
    async close() {
      if (closed) return;
      closed = true;
      optimizer.dispose();
    },
  };
}

export interface WorkerRunnerOptions {
  workers: number;
  learningRate: number;
  /** The backend the workers initialise (normally the one this thread uses). */
  backend: BackendPreference;
}

/** Steps in `workers` threads, each holding a replica of `model` (topology and current weights). */
export async function workerRunner(model: tfl.LayersModel, opts: WorkerRunnerOptions): Promise<TrainRunner> {
  const trainer = await createDataParallelTrainer({
    workers: opts.workers,
    backend: opts.backend,
    learningRate: opts.learningRate,
    model: { topology: model.toJSON(null, false) },
    loss: 'segmentation',
    initialWeights: flattenTensors(model.getWeights()),
  });
  return {
    workers: trainer.workers,
    step: async (x, xShape, y, yShape, augment) => (await trainer.step(x, xShape, y, yShape, augment)).loss,
    evaluate: (x, xShape, y, yShape) => trainer.evaluate(x, xShape, y, yShape),
    async pullWeights(target) {
      const tensors = unflattenTensors(
        await trainer.weights(0),
        target.getWeights().map((w) => w.shape),
      );
      target.setWeights(tensors);
      tf.dispose(tensors);
    },
    setLearningRate: (lr) => trainer.setLearningRate(lr),
    async optimizerWeights() {
      const state = await trainer.optimizerState();
      return unflattenTensors(state.data, state.shapes).map((tensor, i) => ({
        name: state.names[i]!,
        tensor,
      }));
    },
    async setOptimizerWeights(weights) {
      await trainer.setOptimizerState({
        names: weights.map((w) => w.name),
        shapes: weights.map((w) => [...w.tensor.shape]),
        data: flattenTensors(weights.map((w) => w.tensor)),
      });
    },
    close: () => trainer.close(),
  };
}
