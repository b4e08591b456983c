import { describe, expect, it } from 'vitest';
import { drawSlices, labelledSlices, SampleBuilder, trainingBatches } from '../../main/model/train/dataset';
import { createRng } from '../../main/model/augment/random';
import { DEFAULT_AUGMENT } from '../../main/model/augment';
import { LruCache } from '../../main/model/train/lru';
import { InputError } from '../../main/core/errors';
import { toyDataset } from './train-toy-data';

describe('training data generator', () => {
  it('lists every slice of labelled scans and marks organ-free ones', () => {
    const slices = labelledSlices(toyDataset(2, 4, 16));
    expect(slices).toHaveLength(8);
    expect(slices.filter((s) => !s.hasOrgan).map((s) => s.sliceId)).toEqual([
      'case100_day1_slice_0001',
      'case101_day1_slice_0001',
    ]);
  });

  it('builds a 2.5D input (slices i−1, i, i+1) and targets in ORGANS order at the input size', async () => {
    // 16×16 slices into a 16×16 input: letterbox is the identity, so values can be checked by hand.
    const ds = toyDataset(1, 4, 16);
    const slices = labelledSlices(ds);
    const builder = new SampleBuilder({ input: { height: 16, width: 16 }, sliceStride: 1 });
    const s = await builder.sample(slices[2]!);
    expect(s.image.channels).toBe(3);
    const scan = slices[2]!.scan;
    const raw = await Promise.all([1, 2, 3].map((k) => scan.readSlice(k)));
    // Normalised to [0, 1] by the 0.5/99.5 percentiles: background (20) → 0, stomach (230) → 1.
    for (let p = 0; p < 256; p++) {
      for (let c = 0; c < 3; c++) {
        const v = raw[c]!.data[p]!;
        if (v === 20) expect(s.image.data[p * 3 + c]).toBe(0);
        if (v === 230) expect(s.image.data[p * 3 + c]).toBe(1);
      }
    }
    const truth = ds.masks.get(slices[2]!.sliceId)!;
    for (let p = 0; p < 256; p++) {
      expect(s.masks.data[p * 3 + 0]).toBe(truth.large_bowel!.data[p]);
      expect(s.masks.data[p * 3 + 1]).toBe(truth.small_bowel!.data[p]);
      expect(s.masks.data[p * 3 + 2]).toBe(truth.stomach!.data[p]);
    }
  });

  it('letterboxes targets like the image and keeps them binary', async () => {
    const builder = new SampleBuilder({ input: { height: 32, width: 32 }, sliceStride: 2 });
    const s = await builder.sample(labelledSlices(toyDataset(1, 3, 20))[1]!);
    expect(s.masks.data.length).toBe(32 * 32 * 3);
    expect(s.masks.data.every((v) => v === 0 || v === 1)).toBe(true);
    expect(s.masks.data.some((v) => v === 1)).toBe(true);
  });

  it('a mask whose size differs from its slice is an InputError naming the slice', async () => {
    const ds = toyDataset(1, 2, 16);
    const slices = labelledSlices(ds);
    slices[1]!.masks = { stomach: { width: 8, height: 8, data: new Uint8Array(64) } };
    const builder = new SampleBuilder({ input: { height: 16, width: 16 }, sliceStride: 1 });
    await expect(builder.sample(slices[1]!)).rejects.toThrow(InputError);
    await expect(builder.sample(slices[1]!)).rejects.toThrow(/case100_day1_slice_0002/);
  });

  it('over-samples slices with organs to the requested fraction', () => {
    const slices = labelledSlices(toyDataset(10, 2, 8)); // half of the slices show no organ
    const picks = drawSlices(slices, 4000, 0.9, createRng(5));
    const share = picks.filter((s) => s.hasOrgan).length / picks.length;
    expect(share).toBeGreaterThan(0.87);
    expect(share).toBeLessThan(0.93);
    const uniform = drawSlices(slices, 4000, null, createRng(5));
    expect(uniform.filter((s) => s.hasOrgan).length / 4000).toBeCloseTo(0.5, 1);
  });

  it('batches are reproducible from (seed, epoch) and differ between epochs', async () => {
    const slices = labelledSlices(toyDataset(2, 4, 16));
    const builder = new SampleBuilder({ input: { height: 16, width: 16 }, sliceStride: 1 });
    const opts = { batchSize: 3, organFraction: 0.7, augment: DEFAULT_AUGMENT };
    const collect = async (epoch: number): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for await (const b of trainingBatches(slices, builder, opts, 2, 42, epoch)) out.push(b.x, b.y);
      return out;
    };
    const a = await collect(1);
    expect(a[0]!.length).toBe(3 * 16 * 16 * 3);
    expect(await collect(1)).toEqual(a);
    expect(await collect(2)).not.toEqual(a);
  });

  it('the LRU cache holds at most its capacity and evicts the least recently used', async () => {
    const cache = new LruCache<number>(2);
    let loads = 0;
    const get = (k: string): Promise<number> => cache.getOrLoad(k, async () => ++loads);
    await get('a');
    await get('b');
    await get('a');
    await get('c'); // evicts b
    expect(cache.size).toBe(2);
    await get('a');
    expect(loads).toBe(3);
    await get('b');
    expect(loads).toBe(4);
  });
});
