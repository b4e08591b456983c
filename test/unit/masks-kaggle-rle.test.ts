import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import { ORGANS } from '../../main/core/organs';
import { parseWideMaskCsv, type WideMaskRow } from '../../main/masks/kaggle-csv';
import { decodeKaggleRle, encodeKaggleRle } from '../../main/masks/kaggle-rle';
import { FIXTURES, describeWithSharedData, sharedPath } from '../helpers/shared-data';

describe('Kaggle RLE by hand', () => {
  it('decodes 1-based row-major runs', () => {
    // 4 wide × 3 high; "2 3" = pixels 1,2,3 (0-based), "10 2" = pixels 9,10
    const mask = decodeKaggleRle('2 3 10 2', 4, 3, 'case1_day0_slice_0001');
    expect(Array.from(mask)).toEqual([0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0]);
    expect(encodeKaggleRle(mask)).toBe('2 3 10 2');
  });

  it('treats empty and whitespace as an empty mask, and encodes an empty mask as ""', () => {
    expect(Array.from(decodeKaggleRle('', 2, 2, 'x'))).toEqual([0, 0, 0, 0]);
    expect(Array.from(decodeKaggleRle('  \t ', 2, 2, 'x'))).toEqual([0, 0, 0, 0]);
    expect(encodeKaggleRle(new Uint8Array(5))).toBe('');
  });

  it('covers the whole image and touching runs merge on encode', () => {
    expect(Array.from(decodeKaggleRle('1 4', 2, 2, 'x'))).toEqual([1, 1, 1, 1]);
    expect(encodeKaggleRle(decodeKaggleRle('1 2 3 2', 2, 2, 'x'))).toBe('1 4');
  });

  it.each([
    ['1 2 3', 'odd number'],
    ['1 x', 'not a non-negative integer'],
    ['1.5 2', 'not a non-negative integer'],
    ['-1 2', 'not a non-negative integer'],
    ['0 2', 'start must be at least 1'],
    ['1 0', 'length must be at least 1'],
    ['3 3', 'past the image end'],
    ['1 2 2 1', 'overlap or are not sorted'],
    ['3 1 1 1', 'overlap or are not sorted'],
  ])('rejects %j naming the slice (%s)', (rle, problem) => {
    const call = () => decodeKaggleRle(rle, 2, 2, 'case9_day1_slice_0002');
    expect(call).toThrow(InputError);
    expect(call).toThrow(problem);
    expect(call).toThrow(/^case9_day1_slice_0002: /);
  });

  it('round-trips random masks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 1 }), { maxLength: 400 }),
        (w, h, bits) => {
          const mask = Uint8Array.from({ length: w * h }, (_, i) => bits[i] ?? 0);
          expect(decodeKaggleRle(encodeKaggleRle(mask), w, h, 'x')).toEqual(mask);
        },
      ),
    );
  });

  it('gives only InputErrors for garbage', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[0-9 -]{0,30}$/)), (s) => {
        try {
          decodeKaggleRle(s, 7, 5, 'g');
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
        }
      }),
    );
  });
});

/** Every row × organ: decode, re-encode, compare text; plus the row-major fact of 360-wide slices. */
function checkRealRows(rows: WideMaskRow[]): { runs: number; strides: number[] } {
  let runs = 0;
  const strides: number[] = [];
  const mismatches: string[] = [];
  for (const row of rows) {
    for (const organ of ORGANS) {
      const rle = row.rles[organ];
      if (rle === undefined) continue;
      const mask = decodeKaggleRle(rle, row.width, row.height, row.id);
      if (encodeKaggleRle(mask) !== rle) mismatches.push(`${row.id} ${organ}`);
      const starts = rle
        .split(' ')
        .filter((_, i) => i % 2 === 0)
        .map(Number);
      runs += starts.length;
      if (row.width === 360)
        for (let i = 1; i < starts.length; i++) strides.push(starts[i]! - starts[i - 1]!);
    }
  }
  expect(mismatches).toEqual([]);
  return { runs, strides };
}

function mode(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

/** Share of start differences within ±5 of `d`. */
function shareNear(values: number[], d: number): number {
  return values.filter((v) => Math.abs(v - d) <= 5).length / values.length;
}

describe('Kaggle RLE on the 20-row fixture copy of eval_subset.csv', () => {
  it('round-trips every organ exactly and runs are row-major', () => {
    const file = path.join(FIXTURES, 'masks/eval_subset_20rows.csv');
    const rows = parseWideMaskCsv(readFileSync(file, 'utf8'), file);
    expect(rows).toHaveLength(20);
    const { strides } = checkRealRows(rows);
    expect(mode(strides)).toBe(360);
  });
});

describeWithSharedData('Kaggle RLE on all of uwmgi-masks/eval_subset.csv', () => {
  it('round-trips all 1,493 rows × 3 organs exactly', () => {
    const file = sharedPath('uwmgi-masks/eval_subset.csv');
    const rows = parseWideMaskCsv(readFileSync(file, 'utf8'), file);
    expect(rows).toHaveLength(1493);
    // 3,069 organ RLEs are non-empty (counted independently with Python's csv module).
    expect(rows.reduce((n, r) => n + Object.keys(r.rles).length, 0)).toBe(3069);
    const { strides } = checkRealRows(rows);
    // Row-major: in 360-wide (310-high) slices the next run most often starts one image row (360) later
    // (47% of 62,320 differences are within ±5 of 360, counted with Python); column-major would give ~310.
    expect(mode(strides)).toBe(360);
    expect(shareNear(strides, 360)).toBeGreaterThan(0.4);
    expect(shareNear(strides, 310)).toBeLessThan(0.05);
  });
});
