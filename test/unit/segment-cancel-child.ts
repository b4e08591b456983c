/**
 * Run by segment-workers.test.ts in a child process (an abort there must not take the test runner with it):
 * segments `argv[2]` on ONNX Runtime with 2 workers and the shipped model, cancelling each run after
 * 1, 2, … slices, while the workers' next forward passes are running; prints how each run ended.
 */
import { segmentInput } from '../../main/services/segment';

const [input, out] = process.argv.slice(2) as [string, string];
for (let after = 1; after <= 6; after++) {
  const controller = new AbortController();
  const reason = new Error(`cancelled after ${after}`);
  try {
    await segmentInput({
      input,
      out,
      backend: 'onnx',
      workers: 2,
      force: true,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === after) controller.abort(reason);
      },
    });
    console.log('finished');
  } catch (e) {
    console.log(e === reason ? 'cancelled' : `failed: ${(e as Error).message}`);
  }
}
