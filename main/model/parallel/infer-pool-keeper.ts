/**
 * An inference pool kept between scans, for the desktop app: starting the workers costs ~1.5–2 s (tfjs and
 * the model load in each), which a clinician would pay on every scan, so the pool stays up while scans keep
 * coming and is closed after an idle period, on a model or backend change, on cancel and on shutdown.
 * Even one worker is used (native TensorFlow): what the app needs first is a main process that stays free.
 */
import type { InferenceBackend } from '../backend/select';
import { defaultInferenceWorkers, startInferencePool, type InferencePool } from './infer-pool';

export interface InferencePoolKeeperOptions {
  /** Close the pool when no scan has used it for this long (ms). */
  idleMs: number;
  /** Workers for a backend; default defaultInferenceWorkers. */
  workers?: (backend: InferenceBackend) => number;
  /** Told when the workers cannot start and scans run on the calling thread instead. */
  log?: (message: string) => void;
  /** Tests only: a stand-in worker module speaking the infer protocol. */
  workerUrl?: URL;
}

export interface InferencePoolKeeper {
  /**
   * Run `work` with a ready pool for this model and backend, or with undefined (run on this thread) when
   * the workers cannot start or the kept pool is busy with another model. Aborting `signal` closes the
   * pool's workers (which cuts a tfjs-wasm forward pass short; an ONNX Runtime one finishes first, see
   * PoolOptions.finishRunningOnClose); the next scan starts a new pool.
   */
  use<T>(
    modelDir: string,
    backend: InferenceBackend,
    signal: AbortSignal | undefined,
    work: (pool: InferencePool | undefined) => Promise<T>,
  ): Promise<T>;
  /** Whether a pool is kept right now (started or starting). */
  readonly active: boolean;
  /** Terminate the workers; later use() starts them again. */
  close(): Promise<void>;
}

interface Kept {
  key: string;
  pool: Promise<InferencePool | undefined>;
  users: number;
}

export function keepInferencePool(opts: InferencePoolKeeperOptions): InferencePoolKeeper {
  const workersFor = opts.workers ?? defaultInferenceWorkers;
  let kept: Kept | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Models and backends whose workers failed to start: not retried on every scan. */
  const failed = new Set<string>();

  const stopIdleTimer = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  const retire = async (entry: Kept | undefined): Promise<void> => {
    if (!entry) return;
    if (kept === entry) kept = undefined;
    await (await entry.pool)?.close();
  };
  const start = (key: string, modelDir: string, backend: InferenceBackend): Kept => {
    const workers = Math.max(1, workersFor(backend));
    const pool = startInferencePool({ modelDir, backend, workers, workerUrl: opts.workerUrl }).catch(
      (e: unknown) => {
        failed.add(key);
        (opts.log ?? console.warn)(
          `${workers} inference worker${workers > 1 ? 's' : ''} did not start ` +
            `(${e instanceof Error ? e.message : String(e)}); segmenting on the main thread`,
        );
        return undefined;
      },
    );
    return { key, pool, users: 0 };
  };

  return {
    async use(modelDir, backend, signal, work) {
      signal?.throwIfAborted();
      const key = `${backend}\n${modelDir}`;
      if (failed.has(key)) return work(undefined);
      stopIdleTimer();
      if (kept && kept.users === 0 && kept.key !== key) await retire(kept);
      if (kept?.key !== key && kept) return work(undefined); // busy with another model: rare, stay correct
      const existing = kept && (await kept.pool);
      if (kept && (!existing || existing.broken) && kept.users === 0) await retire(kept);
      kept ??= start(key, modelDir, backend);
      const entry = kept;
      entry.users++;
      const onAbort = () => void retire(entry);
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const pool = await entry.pool;
        pool?.keepProcessAlive(true);
        signal?.throwIfAborted();
        return await work(pool && !pool.broken ? pool : undefined);
      } finally {
        signal?.removeEventListener('abort', onAbort);
        entry.users--;
        const idle = () => kept === entry && entry.users === 0;
        const pool = idle() ? await entry.pool : undefined;
        // Checked again: another scan may have taken the pool meanwhile.
        if (idle()) {
          stopIdleTimer();
          idleTimer = setTimeout(() => void retire(entry), opts.idleMs);
          // An idle pool must not keep a process alive that has nothing else to do (`tractus serve`
          // after SIGTERM, a test): neither its timer nor its workers hold the event loop.
          idleTimer.unref?.();
          pool?.keepProcessAlive(false);
        }
      }
    },
    get active() {
      return kept !== undefined;
    },
    async close() {
      stopIdleTimer();
      await retire(kept);
    },
  };
}
