import { spawnSync } from 'node:child_process';
import { pythonWith } from '../helpers/python';
import { describe, expect, it } from 'vitest';
import type { SliceImage } from '../../main/core/types';
import {
  inputTransform,
  letterbox,
  letterboxTransform,
  neighbourIndices,
  neighbourSlices,
  normaliseSlice,
  prepareSlice,
  percentiles,
  ScanInputs,
  unletterbox,
  unletterboxedSummary,
} from '../../main/model/preprocess';
import fc from 'fast-check';

const close = (actual: ArrayLike<number>, expected: number[], digits = 5) => {
  expect(actual.length).toBe(expected.length);
  expected.forEach((v, i) => expect(actual[i], `index ${i}`).toBeCloseTo(v, digits));
};

describe('letterbox', () => {
  it('fits a 3×2 slice into a 4×4 input: scaled 4/3 to 4×3, bilinear with half-pixel centres, padded below', () => {
    const t = letterboxTransform(3, 2, 4, 4);
    expect(t).toMatchObject({ innerWidth: 4, innerHeight: 3, offsetX: 0, offsetY: 0 });
    // f(x, y) = x + 3y is linear, so bilinear sampling returns f at the (clamped) source coordinate.
    // x sources (X+0.5)·3/4−0.5 → 0 (clamped), 0.625, 1.375, 2 (clamped); y sources (Y+0.5)·2/3−0.5 → 0, 0.5, 1.
    const out = letterbox([0, 1, 2, 3, 4, 5], t);
    close(out, [0, 0.625, 1.375, 2, 1.5, 2.125, 2.875, 3.5, 3, 3.625, 4.375, 5, 0, 0, 0, 0]);
  });

  it('centres a wide slice: 360×310 into 256² is 256×220 starting at row 18', () => {
    expect(letterboxTransform(360, 310, 256, 256)).toMatchObject({
      innerWidth: 256,
      innerHeight: 220,
      offsetX: 0,
      offsetY: 18,
    });
    expect(letterboxTransform(266, 266, 256, 256)).toMatchObject({ innerWidth: 256, offsetX: 0, offsetY: 0 });
  });

  it('unletterbox samples only the slice region of one channel of one batch image, at native size', () => {
    const t = letterboxTransform(3, 2, 4, 4); // inner 4×3 at (0,0)
    const channels = 3;
    const image = 4 * 4 * channels;
    const batch = new Float32Array(2 * image).fill(999); // padding and other channels must never be read
    for (let Y = 0; Y < 3; Y++)
      for (let X = 0; X < 4; X++) batch[image + (Y * 4 + X) * channels + 1] = X + 10 * Y;
    // native x ← (x+0.5)·4/3−0.5 = 1/6, 1.5, 17/6; native y ← (y+0.5)·3/2−0.5 = 0.25, 1.75
    const out = unletterbox(batch, t, 1, channels, image);
    close(out, [1 / 6 + 2.5, 1.5 + 2.5, 17 / 6 + 2.5, 1 / 6 + 17.5, 1.5 + 17.5, 17 / 6 + 17.5]);
  });

  /** Padded, cropped (a known spacing larger than the input) and 1-pixel-wide slices. */
  const anyTransform = fc
    .tuple(
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 1, max: 40 }),
      fc.integer({ min: 2, max: 20 }),
      fc.option(fc.double({ min: 0.3, max: 3, noNaN: true }), { nil: undefined }),
    )
    .map(([w, h, size, spacing]) => ({
      size,
      t: inputTransform(w, h, { width: size, height: size }, spacing ? [1, 1] : null, spacing),
    }));

  it("unletterboxedSummary gives the native map's sum without making it", () => {
    fc.assert(
      fc.property(
        anyTransform,
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 1000 }),
        ({ size, t }, channel, seed) => {
          const map = Float32Array.from(
            { length: 2 * size * size * 3 },
            (_, k) => ((k * 7919 + seed) % 997) / 997,
          );
          const offset = size * size * 3; // the second image of a batch of two
          const native = unletterbox(map, t, channel, 3, offset);
          const sum = native.reduce((a, v) => a + v, 0);
          // The native map is stored as float32 (relative rounding ≤ 2⁻²⁴ per value); the mass is not.
          const { mass } = unletterboxedSummary(map, t, channel, 3, offset);
          expect(Math.abs(mass - sum)).toBeLessThanOrEqual(1e-7 * Math.max(1, sum));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('unletterboxedSummary bounds the native pixels that may reach a floor; unletterbox fills only those', () => {
    fc.assert(
      fc.property(
        anyTransform,
        fc.double({ min: 0.05, max: 0.99, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        ({ size, t }, floor, seed) => {
          // Mostly low values with a few peaks, as an organ's map is.
          const map = Float32Array.from({ length: size * size }, (_, k) =>
            (k * 7919 + seed) % 13 === 0 ? ((k * 31 + seed) % 100) / 100 : ((k + seed) % 10) / 100,
          );
          const native = unletterbox(map, t);
          const { region } = unletterboxedSummary(map, t, 0, 1, 0, floor);
          const inside = (x: number, y: number) =>
            region !== undefined && x >= region.x0 && x < region.x1 && y >= region.y0 && y < region.y1;
          const restricted = region && unletterbox(map, t, 0, 1, 0, undefined, region);
          for (let y = 0; y < t.srcHeight; y++) {
            for (let x = 0; x < t.srcWidth; x++) {
              const v = native[y * t.srcWidth + x]!;
              if (!inside(x, y)) expect(v).toBeLessThan(floor + 1e-6);
              if (restricted) expect(restricted[y * t.srcWidth + x]).toBe(inside(x, y) ? v : 0);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes every element of a reused output buffer, cropped or padded', () => {
    const map = Float32Array.from({ length: 16 * 16 * 3 }, (_, k) => ((k * 37) % 101) / 100);
    for (const t of [
      inputTransform(20, 12, { width: 16, height: 16 }, null, undefined),
      inputTransform(30, 30, { width: 16, height: 16 }, [1, 1], 1.5),
    ]) {
      const fresh = unletterbox(map, t, 2, 3);
      const reused = unletterbox(map, t, 2, 3, 0, new Float32Array(t.srcWidth * t.srcHeight).fill(NaN));
      expect(Array.from(reused)).toEqual(Array.from(fresh));
    }
    expect(() =>
      unletterbox(
        map,
        inputTransform(20, 12, { width: 16, height: 16 }, null, undefined),
        0,
        3,
        0,
        new Float32Array(5),
      ),
    ).toThrow(RangeError);
  });

  it('round-trips a same-size slice exactly', () => {
    const t = letterboxTransform(5, 3, 5, 3);
    const src = Array.from({ length: 15 }, (_, i) => (i * 7) % 11);
    close(unletterbox(letterbox(src, t), t), src);
  });
});

describe('physical input scale', () => {
  it('brings scans of any size to the same mm per input pixel: 360×310 at 1.5 mm into 144² at 3.2 mm', () => {
    // 360 · 1.5 / 3.2 = 168.75 → 169 columns, 310 · 1.5 / 3.2 = 145.3 → 145 rows: centre-cropped.
    expect(inputTransform(360, 310, { height: 144, width: 144 }, [1.5, 1.5], 3.2)).toMatchObject({
      innerWidth: 169,
      innerHeight: 145,
      offsetX: -13,
      offsetY: -1,
    });
    // 266 · 1.5 / 3.2 = 124.7 → 125: padded, not stretched to the input.
    expect(inputTransform(266, 266, { height: 144, width: 144 }, [1.5, 1.5], 3.2)).toMatchObject({
      innerWidth: 125,
      offsetX: 9,
    });
    // Unknown spacing (an upscaled PNG): fitted, as before.
    expect(inputTransform(512, 512, { height: 144, width: 144 }, null, 3.2)).toMatchObject({
      innerWidth: 144,
      offsetX: 0,
    });
  });

  it('crops the centre of a larger slice and maps it back with zeros where the input did not reach', () => {
    // 4×1 slice scaled 1:1 into a 2×1 input: the input holds columns 1 and 2.
    const t = letterboxTransform(4, 1, 2, 1, { x: 1, y: 1 });
    expect(t).toMatchObject({ innerWidth: 4, offsetX: -1 });
    close(letterbox([10, 20, 30, 40], t), [20, 30]);
    close(unletterbox(new Float32Array([0.7, 0.9]), t), [0, 0.7, 0.9, 0]);
  });
});

describe('2.5D neighbours by slice number', () => {
  it('takes the slices numbered i±s, and the slice itself where that number is missing', () => {
    const numbers = [1, 2, 3, 5, 6, 7].map((number) => ({ number }));
    // Slice 3 (index 2): 1 is at index 0, 5 at index 3.
    expect(neighbourSlices(numbers, 2, 2)).toEqual([0, 2, 3]);
    // Slice 2 (index 1): 4 is missing → itself.
    expect(neighbourSlices(numbers, 1, 2)).toEqual([0, 1, 1]);
    // Slice 7 (last): 5 is at index 3; past the end it is clamped to itself.
    expect(neighbourSlices(numbers, 5, 2)).toEqual([3, 5, 5]);
    expect(neighbourSlices(numbers, 3, 0)).toEqual([3, 3, 3]);
  });
});

describe('normalisation', () => {
  it('clips at the inverted-CDF percentiles and scales to [0, 1] (hand-computed on 0…999)', () => {
    const data = Uint16Array.from({ length: 1000 }, (_, i) => i);
    // smallest v with ≥ 0.5 % (5 values) ≤ v is 4; with ≥ 99.5 % (995 values) ≤ v is 994
    expect(percentiles(data, [0.5, 99.5])).toEqual([4, 994]);
    const out = normaliseSlice({ width: 1000, height: 1, data });
    expect(out[0]).toBe(0);
    expect(out[4]).toBe(0);
    expect(out[994]).toBe(1);
    expect(out[999]).toBe(1);
    expect(out[499]).toBeCloseTo(0.5, 6);
  });

  it('turns a flat slice into zeros instead of dividing by zero', () => {
    const out = normaliseSlice({ width: 2, height: 2, data: new Uint16Array([7, 7, 7, 7]) });
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
    // also when the caller's reused buffer held an earlier slice
    const reused = normaliseSlice(
      { width: 2, height: 2, data: new Uint16Array([7, 7, 7, 7]) },
      undefined,
      new Float32Array([1, 2, 3, 4]),
    );
    expect(Array.from(reused)).toEqual([0, 0, 0, 0]);
  });

  it('8- and 16-bit slices (one histogram over the type, a table of levels) give the percentiles and normalised values of the same values as floats', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const types = [
      { make: (xs: number[]) => Uint16Array.from(xs), top: 65536 },
      { make: (xs: number[]) => Uint8Array.from(xs), top: 256 },
    ];
    for (const { make, top } of types) {
      for (const n of [1, 2, 17, 5000]) {
        const data = make(Array.from({ length: n }, () => (next() % top) >> (next() % 9)));
        // the same values as floats: no typed path, binned exactly on their range
        const asFloat = Float32Array.from(data);
        const ps = [0, 0.5, 3, 50, 99.5, 100];
        expect(percentiles(data, ps), `${top} levels, n=${n}`).toEqual(percentiles(asFloat, ps));
      }
    }
    // normalised through a table of the integer levels: the same float32 values as dividing each pixel
    const slice = Uint16Array.from({ length: 4000 }, () => next() % 3000);
    const viaTable = normaliseSlice({ width: 4000, height: 1, data: slice });
    const viaDivision = normaliseSlice({ width: 4000, height: 1, data: Float32Array.from(slice) });
    expect(Array.from(viaTable)).toEqual(Array.from(viaDivision));
    // twice on one array: the histogram kept between calls starts empty each time
    const data = Uint16Array.from({ length: 1000 }, (_, i) => 60000 - i);
    expect(percentiles(data, [0.5, 99.5])).toEqual(percentiles(data, [0.5, 99.5]));
  });

  it('prepares an integer slice (through its level table, or its clip range when levels outnumber pixels) exactly as normalising every pixel first', () => {
    let seed = 99;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (const [w, h, top] of [
      [266, 266, 4000],
      [310, 360, 65536],
      [17, 9, 256],
      [17, 9, 65536], // levels far outnumber the 153 pixels: no table, the clip range instead
    ] as const) {
      const raw = Uint16Array.from({ length: w * h }, () => (next() % top) >> (next() % 5));
      const u16: SliceImage = { width: w, height: h, data: raw };
      const f32: SliceImage = { width: w, height: h, data: Float32Array.from(raw) };
      const input = { height: 144, width: 144 };
      const geometry = { pixelSpacing: [1.5, 1.5] as [number, number], spacingMm: 3.2 };
      const viaTable = prepareSlice(u16, input, undefined, geometry);
      const t = viaTable.transform;
      expect(Array.from(viaTable.pixels)).toEqual(Array.from(letterbox(normaliseSlice(f32), t)));
      expect(Array.from(normaliseSlice(u16))).toEqual(Array.from(normaliseSlice(f32)));
    }
  });

  it('matches numpy percentile(method="inverted_cdf") on integer and float data', (ctx) => {
    const python = pythonWith(['numpy']);
    if (!python) return ctx.skip();
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const u16 = Uint16Array.from({ length: 5000 }, () => Math.floor(rand() ** 3 * 4000));
    const i16 = Int16Array.from({ length: 3001 }, () => Math.floor((rand() - 0.3) * 2000));
    const f32 = Float32Array.from({ length: 4000 }, () => rand() * 37.5 - 3);
    const ps = [0.5, 2, 50, 98, 99.5];
    const script = `
import json, sys, numpy as np
arrays = json.load(sys.stdin)
print(json.dumps([np.percentile(np.array(a, dtype=np.float64), ${JSON.stringify(ps)}, method="inverted_cdf").tolist() for a in arrays]))`;
    const py = spawnSync(python, ['-c', script], {
      input: JSON.stringify([Array.from(u16), Array.from(i16), Array.from(f32)]),
      encoding: 'utf8',
    });
    expect(py.status, py.stderr).toBe(0);
    const [ru16, ri16, rf32] = JSON.parse(py.stdout) as number[][];
    expect(percentiles(u16, ps)).toEqual(ru16);
    expect(percentiles(i16, ps)).toEqual(ri16);
    // float data is binned into 4096 levels: within one bin below the exact value
    const bin = (Math.max(...f32) - Math.min(...f32)) / 4096;
    percentiles(f32, ps).forEach((v, i) => {
      expect(v).toBeLessThanOrEqual(rf32![i]! + 1e-6);
      expect(v).toBeGreaterThanOrEqual(rf32![i]! - bin - 1e-6);
    });
  });
});

describe('2.5D input', () => {
  it('stacks slices i−s, i, i+s, clamped at the ends', () => {
    expect(neighbourIndices(0, 10, 2)).toEqual([0, 0, 2]);
    expect(neighbourIndices(5, 10, 2)).toEqual([3, 5, 7]);
    expect(neighbourIndices(9, 10, 2)).toEqual([7, 9, 9]);
    expect(neighbourIndices(0, 1, 2)).toEqual([0, 0, 0]);
  });

  it('builds NHWC batches in channel order (i−s, i, i+s), reading every slice once', async () => {
    // Slice k is 8×1, zero except pixel k = 100, so after normalisation channel c is 1 exactly at pixel idx[c].
    const n = 8;
    const reads: number[] = [];
    const scan = {
      slices: Array.from({ length: n }, (_, k) => ({ id: `s${k}`, number: k + 1, width: 8, height: 1 })),
      readSlice: async (k: number): Promise<SliceImage> => {
        reads.push(k);
        const data = new Uint16Array(8);
        data[k] = 100;
        return { width: 8, height: 1, data };
      },
    };
    const inputs = new ScanInputs(scan, {
      input: { height: 1, width: 8 },
      sliceStride: 2,
      normalisation: { method: 'percentile', lowPercentile: 0.5, highPercentile: 99.5 },
    });
    for (let start = 0; start < n; start += 3) {
      const count = Math.min(3, n - start);
      const { data, transforms } = await inputs.batch(start, count);
      expect(transforms).toHaveLength(count);
      for (let b = 0; b < count; b++) {
        const idx = neighbourIndices(start + b, n, 2);
        for (let c = 0; c < 3; c++)
          for (let p = 0; p < 8; p++) expect(data[(b * 8 + p) * 3 + c]).toBe(p === idx[c] ? 1 : 0);
      }
    }
    expect([...reads].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
