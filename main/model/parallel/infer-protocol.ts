/** Requests and replies of the inference worker (infer-worker.ts). */
import type { InferenceBackend } from '../backend/select';
import type { BatchPostprocessJob, PostprocessedSlice } from '../slice-postprocess';

export interface InferWorkerData {
  /** Model folder (model.json, weights.bin, model-card.json), loaded once per worker. */
  modelDir: string;
  /** The backend the main thread chose: every worker must compute with the same one. */
  backend: InferenceBackend;
  /** ONNX Runtime: threads of this worker's session (the pool shares the cores between its workers). */
  onnxThreads: number;
  /** ONNX Runtime: accelerated providers to try before the CPU one, as the main thread found them. */
  onnxProviders: string[];
}

export type InferRequest =
  | { kind: 'init' }
  /** `count` prepared inputs [count, height, width, channels], row-major; the buffer is transferred. */
  | { kind: 'predict'; x: Float32Array; count: number }
  /** The same, post-processed here as `job` says: only masks, scores and uncertainties go back. */
  | { kind: 'segment'; x: Float32Array; count: number; job: BatchPostprocessJob };

export type InferReply =
  | { kind: 'init'; backend: InferenceBackend }
  /** Probabilities [count, height, width, organs], row-major; the buffer is transferred back. */
  | { kind: 'predict'; probs: Float32Array }
  /** One per slice of the batch; mask and probability buffers are transferred back. */
  | { kind: 'segment'; slices: PostprocessedSlice[] };
