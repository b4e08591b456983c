/**
 * Data-parallel training over worker threads. tfjs-backend-wasm runs single-threaded in Node, so on a
 * multi-core CPU the only way to use the other cores for training is several model replicas: each worker
 * computes gradients on its share of the batch, the main thread averages them (weighted by share), and
 * every replica applies the same averaged step. Replicas start from worker 0's weights, so they stay
 * identical; weightsInSync() verifies it.
 */
import { createWorkerPool, type WorkerPool } from './pool';
import type { FlatTensors, TrainReply, TrainRequest, TrainWorkerData } from './train-protocol';
import type { AugmentParams } from '../augment';
import { isNativeBackend, type BackendPreference } from '../backend/select';
import { workerEntryUrl } from './worker-entries';

export interface DataParallelOptions {
  workers: number;
  model: TrainWorkerData['model'];
  loss?: TrainWorkerData['loss'];
  learningRate?: number;
  backend?: BackendPreference;
  /** All weights (model.getWeights() order, flattened) every replica starts from; default worker 0's. */
  initialWeights?: Float32Array;
}

export interface StepResult {
  loss: number;
  /** Wall time of the slowest worker's forward + backward, ms. */
  gradMs: number;
  /** Whole step including gradient exchange and the optimizer update, ms. */
  stepMs: number;
}

export interface DataParallelTrainer {
  readonly workers: number;
  readonly params: number;
  readonly backend: string;
  /**
   * One optimizer step on a batch [N, …] of inputs x and targets y (row-major float32); with `augment`
   * (one parameter set per image) each worker first augments its share.
   */
  step(
    x: Float32Array,
    xShape: number[],
    y: Float32Array,
    yShape: number[],
    augment?: AugmentParams[],
  ): Promise<StepResult>;
  weights(worker?: number): Promise<Float32Array>;
  /** Replace every replica's weights (model.getWeights() order, flattened). */
  setWeights(weights: Float32Array): Promise<void>;
  weightsInSync(): Promise<boolean>;
  /** Adam keeps its state in every replica (identical, since all apply the same steps). */
  setLearningRate(learningRate: number): Promise<void>;
  optimizerState(): Promise<FlatTensors>;
  setOptimizerState(state: FlatTensors): Promise<void>;
  /** Inference-mode predictions and loss on one batch, computed by worker 0. */
  evaluate(
    x: Float32Array,
    xShape: number[],
    y: Float32Array,
    yShape: number[],
  ): Promise<{ loss: number; pred: Float32Array }>;
  close(): Promise<void>;
}

/** Split n items into `parts` contiguous shares as equal as possible: [start, count][]. */
export function splitBatch(n: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let p = 0; p < parts; p++) {
    const count = Math.floor(n / parts) + (p < n % parts ? 1 : 0);
    if (count > 0) out.push([start, count]);
    start += count;
  }
  return out;
}

async function ask(pool: WorkerPool<TrainRequest, TrainReply>, i: number, req: TrainRequest) {
  return pool.runOn(i, req);
}

export async function createDataParallelTrainer(opts: DataParallelOptions): Promise<DataParallelTrainer> {
  const data: TrainWorkerData = {
    model: opts.model,
    loss: opts.loss,
    learningRate: opts.learningRate ?? 1e-3,
    backend: opts.backend,
  };
  // Until the workers say which backend they run, `auto` may be tfjs-node (native).
  let backend: string = opts.backend ?? 'auto';
  const pool = createWorkerPool<TrainRequest, TrainReply>(
    opts.workers,
    workerEntryUrl('train-worker'),
    data,
    {
      finishRunningOnClose: () => backend === 'auto' || isNativeBackend(backend),
    },
  );
  const workers = opts.workers;
  try {
    const inits = await Promise.all(
      Array.from({ length: workers }, (_, i) => ask(pool, i, { kind: 'init' })),
    );
    const first = inits[0] as Extract<TrainReply, { kind: 'init' }>;
    backend = first.backend;
    const all = (req: TrainRequest, from = 0) =>
      Promise.all(Array.from({ length: workers - from }, (_, k) => ask(pool, k + from, req)));
    const setWeights = async (weights: Float32Array) => {
      await all({ kind: 'setWeights', weights });
    };
    if (opts.initialWeights) await setWeights(opts.initialWeights);
    else {
      const w0 = (await ask(pool, 0, { kind: 'getWeights' })) as Extract<TrainReply, { kind: 'weights' }>;
      await all({ kind: 'setWeights', weights: w0.weights }, 1);
    }

    const weights = async (i = 0) =>
      ((await ask(pool, i, { kind: 'getWeights' })) as Extract<TrainReply, { kind: 'weights' }>).weights;

    return {
      workers,
      params: first.params,
      backend: first.backend,
      async step(x, xShape, y, yShape, augment) {
        const t0 = performance.now();
        const n = xShape[0]!;
        const xPer = x.length / n;
        const yPer = y.length / n;
        const shares = splitBatch(n, workers);
        const replies = (await Promise.all(
          shares.map(([start, count], i) =>
            ask(pool, i, {
              kind: 'grads',
              x: x.slice(start * xPer, (start + count) * xPer),
              xShape: [count, ...xShape.slice(1)],
              y: y.slice(start * yPer, (start + count) * yPer),
              yShape: [count, ...yShape.slice(1)],
              ...(augment ? { augment: augment.slice(start, start + count) } : {}),
            }),
          ),
        )) as Array<Extract<TrainReply, { kind: 'grads' }>>;
        const grads = new Float32Array(replies[0]!.grads.length);
        const stats = new Float32Array(replies[0]!.stats.length);
        let loss = 0;
        replies.forEach((r, i) => {
          const share = shares[i]![1] / n;
          loss += share * r.loss;
          for (let k = 0; k < grads.length; k++) grads[k]! += share * r.grads[k]!;
          for (let k = 0; k < stats.length; k++) stats[k]! += share * r.stats[k]!;
        });
        await Promise.all(
          Array.from({ length: workers }, (_, i) => ask(pool, i, { kind: 'apply', grads, stats })),
        );
        return { loss, gradMs: Math.max(...replies.map((r) => r.ms)), stepMs: performance.now() - t0 };
      },
      weights,
      setWeights,
      async setLearningRate(learningRate) {
        await all({ kind: 'setLearningRate', learningRate });
      },
      async optimizerState() {
        return ((await ask(pool, 0, { kind: 'getOptimizer' })) as Extract<TrainReply, { kind: 'optimizer' }>)
          .state;
      },
      async setOptimizerState(state) {
        await all({ kind: 'setOptimizer', state });
      },
      async evaluate(x, xShape, y, yShape) {
        const r = (await ask(pool, 0, { kind: 'evaluate', x, xShape, y, yShape })) as Extract<
          TrainReply,
          { kind: 'evaluate' }
        >;
        return { loss: r.loss, pred: r.pred };
      },
      async weightsInSync() {
        const all = await Promise.all(Array.from({ length: workers }, (_, i) => weights(i)));
        return all.every((w) => w.length === all[0]!.length && w.every((v, k) => v === all[0]![k]));
      },
      close: () => pool.close(),
    };
  } catch (e) {
    await pool.close();
    throw e;
  }
}
