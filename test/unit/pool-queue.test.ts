/**
 * The worker pool's queue depth: with 2, a worker is handed its next request while it still runs one, so
 * it starts it even while this thread is busy (as when it prepares the next slices); with 1 it waits for
 * this thread to take the answer first. And how close() treats a request that is running.
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

describe('closing a pool whose workers may be in native code (finishRunningOnClose)', () => {
  it('lets the running request finish and be answered, refuses the queued ones, then terminates', async () => {
    const pool = createWorkerPool<{ ms: number }, { started: number }>(1, WORKER, undefined, {
      queueDepth: 3,
      finishRunningOnClose: true,
    });
    await pool.run({ ms: 0 }); // the worker is up
    const running = pool.run({ ms: 300 });
    // How each queued request ends, observed from the start (they are refused while close() is awaited).
    const queued = [pool.run({ ms: 0 }), pool.run({ ms: 0 })].map((q) =>
      q.then(
        () => 'answered',
        (e: Error) => e.message,
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first has started
    const closing = Date.now();
    await pool.close();
    expect(Date.now() - closing).toBeGreaterThanOrEqual(200); // waited for the running one
    await expect(running).resolves.toHaveProperty('started');
    expect(await Promise.all(queued)).toEqual(['the worker pool is closing', 'the worker pool is closing']);
    await expect(pool.run({ ms: 0 })).rejects.toThrow(/worker exited/);
  }, 30_000);

  it('without it, close() terminates at once', async () => {
    const pool = createWorkerPool<{ ms: number }, { started: number }>(1, WORKER);
    await pool.run({ ms: 0 });
    const running = pool.run({ ms: 5_000 }).catch((e: Error) => e.message);
    const closing = Date.now();
    await pool.close();
    expect(Date.now() - closing).toBeLessThan(2_000);
    expect(await running).toMatch(/worker exited/);
  }, 30_000);
});
