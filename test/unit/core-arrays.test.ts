import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countNonZero, nonZeroSearch } from '../../main/core/arrays';
import { maskBbox, maskToCounts } from '../../main/masks/coco-rle';
import { encodeKaggleRle } from '../../main/masks/kaggle-rle';

/** A sparse 0/1 byte array at byte offset `offset` of its buffer (views of any alignment occur). */
const sparseBytes = fc
  .record({
    length: fc.integer({ min: 0, max: 90 }),
    offset: fc.integer({ min: 0, max: 3 }),
    ones: fc.array(fc.nat(89), { maxLength: 12 }),
    fill: fc.integer({ min: 1, max: 255 }),
  })
  .map(({ length, offset, ones, fill }) => {
    const data = new Uint8Array(new ArrayBuffer(length + offset + 4), offset, length);
    for (const i of ones) if (i < length) data[i] = fill;
    return data;
  });

// The definitions, pixel by pixel, as the fast versions must agree with them.
const naiveNext = (d: Uint8Array, from: number, end: number) => {
  for (let i = Math.max(0, from); i < end; i++) if (d[i] !== 0) return i;
  return end;
};
const naiveCounts = (d: Uint8Array, w: number, h: number) => {
  const counts: number[] = [];
  let previous = 0;
  let run = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = d[y * w + x] !== 0 ? 1 : 0;
      if (v !== previous) [counts[counts.length], run, previous] = [run, 0, v];
      run++;
    }
  }
  return [...counts, run];
};
const naiveKaggle = (d: Uint8Array) => {
  const parts: string[] = [];
  for (let i = 0; i < d.length; i++) {
    if (d[i] === 0 || (i > 0 && d[i - 1] !== 0)) continue;
    let j = i;
    while (j < d.length && d[j] !== 0) j++;
    parts.push(`${i + 1} ${j - i}`);
  }
  return parts.join(' ');
};

describe('skipping zero bytes a word at a time', () => {
  it('finds the next non-zero byte in any window, at any alignment', () => {
    fc.assert(
      fc.property(sparseBytes, fc.nat(95), fc.nat(95), (d, a, b) => {
        const next = nonZeroSearch(d);
        const end = Math.min(d.length, Math.max(a, b));
        expect(next(Math.min(a, b), end)).toBe(naiveNext(d, Math.min(a, b), end));
        expect(next(a)).toBe(naiveNext(d, a, d.length));
      }),
      { numRuns: 2000 },
    );
  });

  it('counts, bounds and run-length encodes like the pixel-by-pixel definitions', () => {
    fc.assert(
      fc.property(sparseBytes, fc.integer({ min: 1, max: 9 }), (d, w) => {
        const h = Math.floor(d.length / w);
        const data = d.subarray(0, w * h);
        const mask = { width: w, height: h, data };
        expect(countNonZero(d)).toBe(d.filter((v) => v !== 0).length);
        expect(maskToCounts(mask)).toEqual(naiveCounts(data, w, h));
        expect(encodeKaggleRle(data)).toBe(naiveKaggle(data));
        const inside = [...data.keys()].filter((i) => data[i] !== 0);
        const xs = inside.map((i) => i % w);
        const ys = inside.map((i) => Math.floor(i / w));
        expect(maskBbox(mask)).toEqual(
          inside.length === 0
            ? [0, 0, 0, 0]
            : [
                Math.min(...xs),
                Math.min(...ys),
                Math.max(...xs) - Math.min(...xs) + 1,
                Math.max(...ys) - Math.min(...ys) + 1,
              ],
        );
      }),
      { numRuns: 2000 },
    );
  });
});
