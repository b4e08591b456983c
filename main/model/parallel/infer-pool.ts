/**
 * Segmentation forward passes in worker threads. tfjs-backend-wasm runs single-threaded in Node, so the
 * only way to put a second core to work on one scan is a second copy of the model: each worker loads the
 * model once and takes whole prepared batches, which it also post-processes; segmentScan keeps several
 * batches in flight and takes the results in order, so the output is the same as on one thread.
 */
import os from 'node:os';
import { isNativeBackend, type InferenceBackend } from '../backend/select';
import type { BatchPredictor, BatchSegmenter, SegmentScanOptions } from '../infer';
import { createWorkerPool, type WorkerPool } from './pool';
import type { InferReply, InferRequest, InferWorkerData } from './infer-protocol';
import { workerEntryUrl } from './worker-entries';
import { acceleratedProviders } from '../onnx/runtime';

export interface InferencePool {
  readonly size: number;
  readonly backend: InferenceBackend;
  /** Forward pass on the next idle worker; the input's buffer is transferred (detached here). */
  readonly predict: BatchPredictor;
  /** Forward pass and post-processing on the next idle worker (input transferred likewise). */
  readonly segment: BatchSegmenter;
  /**
   * Why the pool can no longer be trusted (a worker stopped or a forward pass failed), else undefined.
   * Every later predict fails with this error: close the pool and start a new one.
   */
  readonly broken: Error | undefined;
  /** Whether the workers keep the process alive (default yes); see WorkerPool.keepProcessAlive. */
  keepProcessAlive(alive: boolean): void;
  /** Terminates the workers (also mid-batch: pending predicts then reject). */
  close(): Promise<void>;
}

export interface InferencePoolOptions {
  modelDir: string;
  /** The backend the main thread runs on; workers must get the same one. */
  backend: InferenceBackend;
  workers: number;
  /** Tests only: a stand-in worker module speaking the same protocol. */
  workerUrl?: URL;
}

/**
 * Workers that pay off: one per core, at most 2 (this app's target machine), for the single-threaded
 * wasm and cpu backends, and for ONNX Runtime with one thread per session: on 2 cores, two one-thread
 * sessions on alternate batches beat one two-thread session (whose threads wait for each other inside every
 * pass while this thread reads and post-processes beside them; test/bench/onnx.bench.ts). Native
 * TensorFlow already spreads one forward pass over all cores.
 */
export function defaultInferenceWorkers(
  backend: InferenceBackend,
  cores = os.availableParallelism(),
): number {
  return backend === 'tensorflow' ? 1 : Math.max(1, Math.min(2, cores));
}

/** Batches each worker is handed ahead (see PoolOptions.queueDepth). */
const QUEUE_DEPTH = 2;

/** ONNX Runtime threads of each worker's session: the cores shared between the workers. */
export function onnxThreadsPerWorker(workers: number, cores = os.availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers));
}

/**
 * How segmentScan runs a scan: on `pool`'s workers, else through `local` (e.g. an ONNX Runtime session on
 * this thread), else on the model here. On the workers two batches per worker and one more are in flight,
 * so each is busy while this thread prepares and post-processes. ONNX Runtime's workers take one slice at a time: its
 * CPU per slice is the same at batches of 1–16, and a 4-slice batch on a one-thread session (≈ 50 ms of the
 * shipped model) is what the other worker may idle through at the end of a scan, and what the first result
 * waits for; on 144 slices batch 1 is ≈ 0.3 ms per slice faster (test/bench/onnx.bench.ts). tfjs-wasm
 * batches its convolutions better: there batch 4 is ≈ 10 % faster than batch 1 on the same scan.
 */
export function scanRunOptions(
  pool: InferencePool | undefined,
  local: BatchPredictor | undefined,
): Pick<SegmentScanOptions, 'segment' | 'predict' | 'inFlight' | 'batch'> {
  if (pool) {
    return {
      segment: pool.segment,
      // Enough batches that every worker has one running and one waiting while this thread prepares more.
      inFlight: pool.size * QUEUE_DEPTH + 1,
      ...(pool.backend === 'onnxruntime' ? { batch: 1 } : {}),
    };
  }
  return local ? { predict: local } : {};
}

function workerError(e: unknown): Error {
  const message = e instanceof Error ? e.message : String(e);
  return /^worker exited with code/.test(message)
    ? new Error(`inference worker stopped unexpectedly (${message})`, { cause: e })
    : new Error(`inference worker failed: ${message}`, { cause: e });
}

/** Start `workers` threads and wait until each has its backend and model ready. */
export async function startInferencePool(opts: InferencePoolOptions): Promise<InferencePool> {
  const data: InferWorkerData = {
    modelDir: opts.modelDir,
    backend: opts.backend,
    onnxThreads: onnxThreadsPerWorker(opts.workers),
    onnxProviders: opts.backend === 'onnxruntime' ? acceleratedProviders() : [],
  };
  const pool: WorkerPool<InferRequest, InferReply> = createWorkerPool(
    opts.workers,
    opts.workerUrl ?? workerEntryUrl('infer-worker'),
    data,
    { queueDepth: QUEUE_DEPTH, finishRunningOnClose: isNativeBackend(opts.backend) },
  );
  try {
    const inits = await Promise.all(
      Array.from({ length: opts.workers }, (_, i) => pool.runOn(i, { kind: 'init' })),
    );
    for (const reply of inits) {
      if (reply.kind === 'init' && reply.backend !== opts.backend) {
        throw new Error(
          `inference worker runs on ${reply.backend}, not on ${opts.backend} like the main thread`,
        );
      }
    }
  } catch (e) {
    await pool.close();
    throw workerError(e);
  }

  let broken: Error | undefined;
  let closed = false;
  const call = async (req: InferRequest & { x: Float32Array }): Promise<InferReply> => {
    if (broken) throw broken;
    try {
      const reply = await pool.run(req, [req.x.buffer as ArrayBuffer]);
      if (reply.kind !== req.kind) throw new Error(`unexpected reply "${reply.kind}" to ${req.kind}`);
      return reply;
    } catch (e) {
      // After close() the rejection is expected (cancellation), not a fault of the pool.
      const err = closed ? (e as Error) : workerError(e);
      broken ??= err;
      throw err;
    }
  };
  const predict: BatchPredictor = async (x, count) => {
    const reply = await call({ kind: 'predict', x, count });
    return (reply as Extract<InferReply, { kind: 'predict' }>).probs;
  };
  const segment: BatchSegmenter = async (x, count, job) => {
    const reply = await call({ kind: 'segment', x, count, job });
    return (reply as Extract<InferReply, { kind: 'segment' }>).slices;
  };
  return {
    size: opts.workers,
    backend: opts.backend,
    predict,
    segment,
    get broken() {
      return broken;
    },
    keepProcessAlive: (alive) => pool.keepProcessAlive(alive),
    async close() {
      closed = true;
      broken ??= new Error('inference pool is closed');
      await pool.close();
    },
  };
}
