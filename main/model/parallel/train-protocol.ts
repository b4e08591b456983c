/** Requests and replies of the data-parallel training worker (train-worker.ts). */
import type { AugmentParams } from '../augment';
import type { BackendPreference } from '../backend/select';

/** A function exported by a module, named by file URL so a worker thread can import it. */
export interface ModuleRef {
  module: string;
  export: string;
  /** Passed as the single argument to the exported function (must be structured-cloneable). */
  options?: unknown;
}

export type TrainLoss = 'segmentation' | 'bench';

export interface TrainWorkerData {
  /**
   * Exported function (options) => LayersModel | Promise<LayersModel>, or a Keras topology (model.toJSON)
   * that the worker rebuilds with tfjs-layers — how the training loop ships an already built or loaded model.
   */
  model: ModuleRef | { topology: unknown };
  /**
   * Which loss the worker computes: the training loop's segmentationLoss (train/loss.ts) or, by default,
   * the bench U-Net's Dice + BCE. Named rather than imported by URL so the worker links both statically
   * and the bundled app needs no separate loss module.
   */
  loss?: TrainLoss;
  learningRate: number;
  backend?: BackendPreference;
}

/** Flat tensors with their names and shapes (optimizer state crossing the thread boundary). */
export interface FlatTensors {
  names: string[];
  shapes: number[][];
  data: Float32Array;
}

export type TrainRequest =
  | { kind: 'init' }
  | {
      kind: 'grads';
      x: Float32Array;
      xShape: number[];
      y: Float32Array;
      yShape: number[];
      /** Per image: augmentation the worker applies before the step (see train-augment.ts). */
      augment?: AugmentParams[];
    }
  | { kind: 'apply'; grads: Float32Array; stats: Float32Array }
  | { kind: 'getWeights' }
  | { kind: 'setWeights'; weights: Float32Array }
  | { kind: 'setLearningRate'; learningRate: number }
  | { kind: 'getOptimizer' }
  | { kind: 'setOptimizer'; state: FlatTensors }
  | { kind: 'evaluate'; x: Float32Array; xShape: number[]; y: Float32Array; yShape: number[] };

export type TrainReply =
  | { kind: 'init'; params: number; backend: string }
  | { kind: 'grads'; loss: number; grads: Float32Array; stats: Float32Array; ms: number }
  | { kind: 'ok' }
  | { kind: 'weights'; weights: Float32Array }
  | { kind: 'optimizer'; state: FlatTensors }
  | { kind: 'evaluate'; loss: number; pred: Float32Array };
