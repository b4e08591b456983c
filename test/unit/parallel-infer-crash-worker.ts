/**
 * Stand-in inference worker for the crash tests: the real worker, except that the whole thread exits
 * (code 7) when asked to predict a batch of exactly 3 slices — so a test picks the batch that crashes.
 * The real worker is imported first: a message arriving before its listener exists would be lost.
 */
import { parentPort } from 'node:worker_threads';

await import('../../main/model/parallel/infer-worker');
parentPort!.on('message', (msg: { request?: { kind?: string; count?: number } }) => {
  if ((msg.request?.kind === 'predict' || msg.request?.kind === 'segment') && msg.request.count === 3)
    process.exit(7);
});
