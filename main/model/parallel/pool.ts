/**
 * A small worker-thread pool. Workers may be TypeScript modules (run through tsx, so the same sources
 * serve dev and tests) or built .js; requests go to the least busy worker (up to queueDepth each), or to
 * a chosen one for stateful work such as data-parallel training. Worker-side code uses serveRequests()
 * from ./protocol.
 */
import { Worker, type Transferable } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { STOP, STOPPED, type WorkerControl, type WorkerControlReply, type WorkerReply } from './protocol';
import { detachOnceEarly } from './detach-early';

export interface WorkerPool<Req, Res> {
  readonly size: number;
  /** Run on the least busy worker that has room (see PoolOptions.queueDepth), else once one has. */
  run(request: Req, transfer?: Transferable[]): Promise<Res>;
  /** Run on worker `index` (queued behind its current job). */
  runOn(index: number, request: Req, transfer?: Transferable[]): Promise<Res>;
  /** Whether the workers keep the process alive (Node's default); an idle kept pool should not. */
  keepProcessAlive(alive: boolean): void;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  chain: Promise<unknown>;
  /** Set once the worker has stopped: later requests to it fail at once instead of waiting forever. */
  exited?: Error;
  /** Called when the worker says STOPPED (close() with finishRunningOnClose). */
  stopped?: () => void;
}

export interface PoolOptions {
  /**
   * Requests `run` may hand a worker before it has answered the earlier ones (default 1). The worker takes
   * them one at a time (serveRequests); with 2 the next one already waits in its queue when it finishes,
   * instead of after a round trip through this thread, which may be busy (preparing the next slices) just
   * then: on 2 cores that idled a worker about 1 ms per slice.
   */
  queueDepth?: number;
  /**
   * close() lets each worker finish the request it is running before terminating it (those still queued
   * are refused). For workers in native code (ONNX Runtime, tfjs-node): terminating one in the middle of a
   * native call aborts the whole process (onnxruntime-node 1.30: "terminate called after throwing an
   * instance of 'Napi::Error'"). Without it (default) close() terminates at once, which is also what stops
   * a long JavaScript or WebAssembly computation soonest.
   */
  finishRunningOnClose?: boolean | (() => boolean);
}

/** How long close() waits for a worker to finish its running request before terminating it anyway. */
const FINISH_RUNNING_MS = 60_000;

export function createWorkerPool<Req, Res>(
  n: number,
  workerUrl: URL,
  workerData?: unknown,
  { queueDepth = 1, finishRunningOnClose = false }: PoolOptions = {},
): WorkerPool<Req, Res> {
  if (!Number.isInteger(n) || n < 1) throw new Error(`worker pool size must be a positive integer, got ${n}`);
  detachOnceEarly();
  let nextId = 1;
  const waiting: Array<() => void> = [];
  const slots: Slot[] = Array.from({ length: n }, () => {
    const worker = spawnWorker(workerUrl, workerData);
    const slot: Slot = { worker, busy: false, pending: new Map(), chain: Promise.resolve() };
    worker.on('message', (msg: WorkerReply<Res> | WorkerControlReply) => {
      if ('control' in msg) {
        if (msg.control === STOPPED) slot.stopped?.();
        return;
      }
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(Object.assign(new Error(msg.error), { stack: msg.stack }));
    });
    const failAll = (e: Error) => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
    };
    worker.on('error', failAll);
    worker.on('exit', (code) => {
      slot.exited = new Error(`worker exited with code ${code}`);
      failAll(slot.exited);
    });
    return slot;
  });

  /** Ask a worker to stop after its running request; resolves when it has (or exited, or after a while). */
  const finishRunning = (slot: Slot): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FINISH_RUNNING_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      slot.stopped = done;
      slot.worker.once('exit', done);
      slot.worker.postMessage({ control: STOP } satisfies WorkerControl);
    });

  const send = (slot: Slot, request: Req, transfer?: Transferable[]): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      if (slot.exited) return reject(slot.exited);
      const id = nextId++;
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage({ id, request }, transfer ?? []);
    });

  const runOn = (index: number, request: Req, transfer?: Transferable[]): Promise<Res> => {
    const slot = slots[index];
    if (!slot) throw new Error(`no worker ${index} in a pool of ${n}`);
    const job = slot.chain.then(async () => {
      slot.busy = true;
      try {
        return await send(slot, request, transfer);
      } finally {
        slot.busy = false;
        waiting.shift()?.();
      }
    });
    slot.chain = job.catch(() => undefined);
    return job;
  };

  /** The worker with the fewest requests outstanding that has room for one more (not one in a runOn job). */
  const leastBusy = (): Slot | undefined => {
    let best: Slot | undefined;
    for (const s of slots) {
      if (s.busy || s.pending.size >= queueDepth) continue;
      if (!best || s.pending.size < best.pending.size) best = s;
    }
    return best;
  };

  const run = async (request: Req, transfer?: Transferable[]): Promise<Res> => {
    for (;;) {
      const slot = leastBusy();
      if (slot) {
        try {
          return await send(slot, request, transfer);
        } finally {
          waiting.shift()?.();
        }
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };

  return {
    size: n,
    run,
    runOn,
    keepProcessAlive(alive) {
      for (const s of slots) {
        if (alive) s.worker.ref();
        else s.worker.unref();
      }
    },
    async close() {
      await Promise.all(
        slots.map(async (s) => {
          const finish =
            typeof finishRunningOnClose === 'function' ? finishRunningOnClose() : finishRunningOnClose;
          if (finish && !s.exited && s.pending.size > 0) await finishRunning(s);
          await s.worker.terminate();
        }),
      );
    },
  };
}

/**
 * Start a worker. On Node 20 `execArgv: ['--import', 'tsx']` does not apply to a worker's entry module
 * (it fails with "Unknown file extension .ts"), so .ts entries get a tiny bootstrap that registers tsx's
 * ESM hooks inside the worker first and then imports the entry.
 */
export function spawnWorker(workerUrl: URL, workerData?: unknown): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl, { workerData });
  // The ESM build of tsx's API: its CJS build registers a loader path that does not exist.
  const tsxDir = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(path.join(tsxDir, 'dist/esm/api/index.mjs')).href;
  const code =
    `import(${JSON.stringify(tsxApi)})` +
    `.then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); })`;
  return new Worker(code, { eval: true, workerData });
}
