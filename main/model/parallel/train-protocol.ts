/** Requests and replies of the data-parallel training worker (train-worker.ts). */
import type { BackendPreference } from '../backend/select';

/** A function exported by a module, named by file URL so a worker thread can import it. */
export interface ModuleRef {
  module: string;
  export: string;
  /** Passed as the single argument to the exported function (must be structured-cloneable). */
  options?: unknown;
}

export interface TrainWorkerData {
  /** Exported function (options) => LayersModel | Promise<LayersModel>. */
  model: ModuleRef;
  /** Exported function (yTrue, yPred) => scalar loss; defaults to the bench U-Net's Dice + BCE. */
  loss?: ModuleRef;
  learningRate: number;
  backend?: BackendPreference;
}

export type TrainRequest =
  | { kind: 'init' }
  | { kind: 'grads'; x: Float32Array; xShape: number[]; y: Float32Array; yShape: number[] }
  | { kind: 'apply'; grads: Float32Array; stats: Float32Array }
  | { kind: 'getWeights' }
  | { kind: 'setWeights'; weights: Float32Array };

export type TrainReply =
  | { kind: 'init'; params: number; backend: string }
  | { kind: 'grads'; loss: number; grads: Float32Array; stats: Float32Array; ms: number }
  | { kind: 'ok' }
  | { kind: 'weights'; weights: Float32Array };
