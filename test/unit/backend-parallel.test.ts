/**
 * Worker pool and data-parallel training on a tiny U-Net (32², filters 4-8): replicas must stay
 * bit-identical after steps, the loss must fall on a fixed batch, and worker errors must surface.
 */
import { describe, expect, it } from 'vitest';
import { createDataParallelTrainer, splitBatch } from '../../main/model/parallel/data-parallel';

describe('splitBatch', () => {
  it('splits into near-equal contiguous shares and drops empty ones', () => {
    expect(splitBatch(5, 2)).toEqual([
      [0, 3],
      [3, 2],
    ]);
    expect(splitBatch(1, 2)).toEqual([[0, 1]]);
    expect(splitBatch(4, 2)).toEqual([
      [0, 2],
      [2, 2],
    ]);
  });
});

describe('data-parallel training in 2 worker threads', () => {
  it('keeps replicas in sync and lowers the loss', async () => {
    const size = 32;
    const trainer = await createDataParallelTrainer({
      workers: 2,
      backend: 'wasm',
      learningRate: 1e-2,
      model: {
        module: new URL('../../main/model/backend/bench-unet.ts', import.meta.url).href,
        export: 'buildBenchUnet',
        options: { size, filters: [4, 8] },
      },
    });
    try {
      expect(trainer.backend).toBe('wasm');
      const n = 3; // odd on purpose: unequal shares
      const x = Float32Array.from({ length: n * size * size }, (_, k) => Math.sin(k * 0.37));
      const y = Float32Array.from({ length: n * size * size * 3 }, (_, k) =>
        Math.sin(k * 0.11) > 0.3 ? 1 : 0,
      );
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) {
        losses.push((await trainer.step(x, [n, size, size, 1], y, [n, size, size, 3])).loss);
      }
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[3]!).toBeLessThan(losses[0]!);
      expect(await trainer.weightsInSync()).toBe(true);
    } finally {
      await trainer.close();
    }
  });

  it('reports a missing model factory as an error, not a hang', async () => {
    await expect(
      createDataParallelTrainer({
        workers: 1,
        backend: 'cpu',
        model: {
          module: new URL('../../main/model/backend/bench-unet.ts', import.meta.url).href,
          export: 'nope',
        },
      }),
    ).rejects.toThrow(/no exported function nope/);
  });
});
