/** Message shapes between createWorkerPool() and a worker, and the worker-side request loop. */
import { parentPort, type Transferable } from 'node:worker_threads';
import { detachOnceEarly } from './detach-early';

export type WorkerReply<Res> =
  { id: number; ok: true; result: Res } | { id: number; ok: false; error: string; stack?: string };

/**
 * Sent instead of a request when the pool closes and must not terminate a worker in the middle of native
 * work (see PoolOptions.finishRunningOnClose); the worker answers STOPPED once nothing of its runs.
 */
export const STOP = 'stop';
export const STOPPED = 'stopped';
export type WorkerControl = { control: typeof STOP };
export type WorkerControlReply = { control: typeof STOPPED };

/** A handler may return transferables alongside its result to avoid copying big arrays back. */
export interface WithTransfer<Res> {
  result: Res;
  transfer: Transferable[];
}

/**
 * Worker side: answer every request with handler's result (or its error), one at a time. After STOP, the
 * request running is finished and answered, those still queued are refused, and STOPPED says so.
 */
export function serveRequests<Req, Res>(handler: (req: Req) => Promise<Res | WithTransfer<Res>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests() must run inside a worker thread');
  detachOnceEarly();
  let queue = Promise.resolve();
  let stopping = false;
  port.on('message', (msg: { id: number; request: Req } | WorkerControl) => {
    if ('control' in msg) {
      stopping = true;
      // Behind every request already queued: each of those is refused at once, the running one finishes.
      queue = queue.then(() => port.postMessage({ control: STOPPED } satisfies WorkerControlReply));
      return;
    }
    queue = queue.then(async () => {
      if (stopping) {
        port.postMessage({ id: msg.id, ok: false, error: 'the worker pool is closing' });
        return;
      }
      try {
        const out = await handler(msg.request);
        if (out && typeof out === 'object' && 'transfer' in out && 'result' in out) {
          port.postMessage({ id: msg.id, ok: true, result: out.result }, out.transfer);
        } else {
          port.postMessage({ id: msg.id, ok: true, result: out });
        }
      } catch (e) {
        const err = e as Error;
        port.postMessage({ id: msg.id, ok: false, error: err?.message ?? String(e), stack: err?.stack });
      }
    });
  });
}
