/** Message shapes between createWorkerPool() and a worker, and the worker-side request loop. */
import { parentPort, type Transferable } from 'node:worker_threads';
import { detachOnceEarly } from './detach-early';

export type WorkerReply<Res> =
  { id: number; ok: true; result: Res } | { id: number; ok: false; error: string; stack?: string };

/** A handler may return transferables alongside its result to avoid copying big arrays back. */
export interface WithTransfer<Res> {
  result: Res;
  transfer: Transferable[];
}

/** Worker side: answer every request with handler's result (or its error), one at a time. */
export function serveRequests<Req, Res>(handler: (req: Req) => Promise<Res | WithTransfer<Res>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveRequests() must run inside a worker thread');
  detachOnceEarly();
  let queue = Promise.resolve();
  port.on('message', (msg: { id: number; request: Req }) => {
    queue = queue.then(async () => {
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
