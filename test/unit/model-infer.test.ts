import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { Scan, SliceImage } from '../../main/core/types';
import { buildModel } from '../../main/model/arch';
import { newModelCard } from '../../main/model/card';
import { segmentScan } from '../../main/model/infer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const SPEC = { name: 'unet' as const, filters: [4, 8], inChannels: 3, outChannels: 3 };
const card = newModelCard({
  name: 'tiny',
  description: 'test',
  architecture: SPEC,
  inputSize: { height: 32, width: 32 },
  backend: 'cpu',
  versions: {},
  postprocess: {
    stomach: { threshold: 0.5, gateThreshold: 0.9, gateMinPixels: 10, minComponentPixels: 5 },
  },
});

function fakeScan(id: string, n: number, width: number, height: number): Scan {
  return {
    id,
    patientId: 'case1',
    studyId: 'case1_day1',
    day: 'day1',
    width,
    height,
    pixelSpacing: [1.5, 1.5],
    sliceThickness: 3,
    intensity: 'uint16',
    source: 'png',
    slices: Array.from({ length: n }, (_, i) => ({
      id: `${id}_slice_${i + 1}`,
      number: i + 1,
      width,
      height,
    })),
    readSlice: async (i: number): Promise<SliceImage> => ({
      width,
      height,
      data: Uint16Array.from({ length: width * height }, (_, p) => (p * 37 + i * 101) % 1000),
    }),
  };
}

/**
 * A model whose every weight is zero except the output bias: the features are 0 everywhere, so the
 * output is sigmoid(bias) per organ — here large bowel −4 (0.018), small bowel 0 (0.5), stomach +4 (0.982).
 */
function constantModel() {
  const model = buildModel(SPEC, 32);
  model.setWeights(model.getWeights().map((w) => tf.zerosLike(w)));
  const head = model.getLayer('head');
  const [kernel] = head.getWeights();
  head.setWeights([kernel!, tf.tensor1d([-4, 0, 4])]);
  return model;
}

describe('segmentScan', () => {
  it('applies the card: stomach everywhere at native size, the others gated out, score = sigmoid(4)', async () => {
    const model = constantModel();
    const progress: number[] = [];
    const final: number[][] = [];
    const result = await segmentScan(
      fakeScan('case1_day1', 5, 40, 30),
      { model, card },
      {
        batch: 2,
        onProgress: (done) => progress.push(done),
        onFinalSlices: (done) => final.push(done.map((s) => s.index)),
      },
    );
    expect(progress).toEqual([2, 4, 5]);
    expect(result.slices.map((s) => s.index)).toEqual([0, 1, 2, 3, 4]);
    // no 3-D rule on this card: each batch's slices are final as they come
    expect(final).toEqual([[0, 1], [2, 3], [4]]);
    for (const s of result.slices) {
      expect(Object.keys(s.masks)).toEqual(['stomach']); // small bowel 0.5 is not > 0.5; large bowel 0.018
      expect(s.masks.stomach!.width).toBe(40);
      expect(s.masks.stomach!.height).toBe(30);
      expect(s.masks.stomach!.data.every((v) => v === 1)).toBe(true);
      expect(s.scores.stomach).toBeCloseTo(1 / (1 + Math.exp(-4)), 5);
      // uncertainty from the maps before post-processing, by hand: wrong-side mass per pixel
      // σ(−4) + 0.5 + (1 − σ(4)) over Σ p + #[p>0.5] + 1 % = 1.5 + 1 + 0.01
      expect(s.uncertainty).toBeCloseTo((0.5 + 2 / (1 + Math.exp(4))) / 2.51, 4);
    }
    model.dispose();
  });

  it('releaseMasks: onFinalSlices sees the masks, the result keeps none (with and without a 3-D rule)', async () => {
    const model = constantModel();
    const volumeCard = {
      ...card,
      postprocess: { ...card.postprocess, stomach: { ...card.postprocess.stomach, minVolumeShare: 1 } },
    };
    for (const c of [card, volumeCard]) {
      const seen: number[] = [];
      const result = await segmentScan(
        fakeScan('case1_day1', 5, 40, 30),
        { model, card: c },
        {
          batch: 2,
          releaseMasks: true,
          onFinalSlices: (done) => done.forEach((s) => seen.push(s.masks.stomach!.data.length)),
        },
      );
      expect(seen).toEqual([1200, 1200, 1200, 1200, 1200]);
      expect(result.slices.map((s) => Object.keys(s.masks).length)).toEqual([0, 0, 0, 0, 0]);
      expect(result.slices[0]!.scores.stomach).toBeCloseTo(1 / (1 + Math.exp(-4)), 5);
    }
    model.dispose();
  });

  it('applies the position prior on UW-Madison scans only: stomach dropped where the prior says it is rare', async () => {
    const model = constantModel();
    // Stomach outlined only in the first half of a scan (bins: first half 0.8, second half 0).
    const slicePrior = {
      source: 'test',
      scans: 1,
      organs: { large_bowel: [1, 1], small_bowel: [1, 1], stomach: [0.8, 0] },
      minPrior: 0.1,
    };
    const withPrior = { ...card, slicePrior };
    const uw = { ...fakeScan('case1_day1', 4, 20, 20), source: 'uwmgi' as const };
    const kept = (await segmentScan(uw, { model, card: withPrior })).slices.map((s) =>
      Boolean(s.masks.stomach),
    );
    // Slices 1–2 sit at positions 0 and 0.25 (first half), 3–4 at 0.5 and 0.75.
    expect(kept).toEqual([true, true, false, false]);
    // A PNG folder's numbering says nothing of anatomy: no prior.
    const png = (await segmentScan(fakeScan('a', 4, 20, 20), { model, card: withPrior })).slices;
    expect(png.every((s) => Boolean(s.masks.stomach))).toBe(true);
    model.dispose();
  });

  it('applies a 3-D rule once the scan is whole: a stray stomach body dropped, scores over what is kept', async () => {
    // Stomach 0.9 in a 6×6 block on slices 1–3; a stray 2×2 blob at 0.6 on slice 2 and at 0.7 on slice 5.
    const size = 32;
    const stomachProb = (slice: number, x: number, y: number): number => {
      if (slice <= 2 && x < 6 && y < 6) return 0.9;
      if ((slice === 1 || slice === 4) && x >= 28 && y >= 28) return slice === 1 ? 0.6 : 0.7;
      return 0;
    };
    let next = 0;
    const predict = async (_data: Float32Array, count: number) => {
      const out = new Float32Array(count * size * size * 3);
      for (let b = 0; b < count; b++, next++) {
        for (let y = 0; y < size; y++) {
          for (let x = 0; x < size; x++) out[((b * size + y) * size + x) * 3 + 2] = stomachProb(next, x, y);
        }
      }
      return out;
    };
    const plain = { threshold: 0.5, gateThreshold: 0.5, gateMinPixels: 0, minComponentPixels: 0 };
    const volumeCard = {
      ...card,
      postprocess: { large_bowel: plain, small_bowel: plain, stomach: { ...plain, minVolumeShare: 1 } },
    };
    const model = buildModel(SPEC, 32);
    const final: boolean[][] = [];
    const result = await segmentScan(
      fakeScan('v', 5, size, size),
      { model, card: volumeCard },
      // slices are final only once the rule has seen the whole scan: one call, with the stray blobs gone
      { batch: 2, predict, onFinalSlices: (done) => final.push(done.map((s) => Boolean(s.masks.stomach))) },
    );
    expect(final).toEqual([[true, true, true, false, false]]);
    expect(result.slices.map((s) => Boolean(s.masks.stomach))).toEqual([true, true, true, false, false]);
    expect(result.slices[4]!.scores.stomach).toBeUndefined();
    const second = result.slices[1]!;
    expect(second.masks.stomach!.data.reduce((a, v) => a + v, 0)).toBe(36);
    expect(second.scores.stomach).toBeCloseTo(0.9, 6);
    model.dispose();
  });

  it('keeps the tensor count flat across scans', async () => {
    const model = buildModel(SPEC, 32);
    await segmentScan(fakeScan('a', 3, 20, 20), { model, card });
    const before = tf.memory().numTensors;
    for (const id of ['b', 'c']) await segmentScan(fakeScan(id, 7, 33, 21), { model, card }, { batch: 3 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('stops when aborted', async () => {
    const model = buildModel(SPEC, 32);
    const controller = new AbortController();
    const run = segmentScan(
      fakeScan('a', 9, 20, 20),
      { model, card },
      {
        batch: 1,
        onProgress: (done) => done === 2 && controller.abort(new Error('user cancelled')),
        signal: controller.signal,
      },
    );
    await expect(run).rejects.toThrow('user cancelled');
    model.dispose();
  });
});
