/** Stand-in worker for the pool's queue test: waits `ms`, answers when (Date.now()) it started. */
import { serveRequests } from '../../main/model/parallel/protocol';

serveRequests(async (req: { ms: number }) => {
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, req.ms));
  return { started };
});
