/**
 * The worker pool's queue depth: with 2, a worker is handed its next request while it still runs one, so
 * it starts it even while this thread is busy (as when it prepares the next slices); with 1 it waits for
 * this thread to take the answer first.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerPool } from '../../main/model/parallel/pool';

const WORKER = new URL('./pool-queue-worker.ts', import.meta.url);

/** When the second of two requests started in the worker, and when this thread stopped being busy. */
async function secondStart(queueDepth: number): Promise<{ started: number; busyUntil: number }> {
  const pool = createWorkerPool<{ ms: number }, { started: number }>(1, WORKER, undefined, { queueDepth });
  try {
    await pool.run({ ms: 0 }); // the worker is up
    const first = pool.run({ ms: 20 });
    const second = pool.run({ ms: 0 });
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil); // this thread busy, its event loop blocked
    await first;
    return { started: (await second).started, busyUntil };
  } finally {
    await pool.close();
  }
}

describe('worker pool queue depth', () => {
  it('1: the next request waits for this thread; 2: it is already queued in the worker', async () => {
    const one = await secondStart(1);
    expect(one.started).toBeGreaterThanOrEqual(one.busyUntil);
    const two = await secondStart(2);
    expect(two.started).toBeLessThan(two.busyUntil);
  }, 30_000);
});
