import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import type { BinaryMask } from '../../main/core/types';
import { maskArea } from '../../main/masks/coco-rle';
import { maskToPolygons, rasterizePolygons } from '../../main/masks/polygons';

const area = (m: Uint8Array): number => m.reduce((n, v) => n + v, 0);
const asMask = (width: number, height: number, data: Uint8Array): BinaryMask => ({ width, height, data });

/** Pixels (x, y) set in a row-major mask, as "x,y" strings. */
function pixels(m: Uint8Array, w: number): string[] {
  const out: string[] = [];
  m.forEach((v, i) => v && out.push(`${i % w},${Math.floor(i / w)}`));
  return out;
}

describe('rasterizePolygons (pycocotools frPoly semantics), hand-computed shapes', () => {
  it('an integer square 10×10 covers exactly pixels 0..9 × 0..9', () => {
    const m = rasterizePolygons([[0, 0, 10, 0, 10, 10, 0, 10]], 20, 20);
    expect(area(m)).toBe(100);
    expect(m[9 * 20 + 9]).toBe(1);
    expect(m[10 * 20 + 9]).toBe(0);
    expect(m[9 * 20 + 10]).toBe(0);
  });

  it('a box [2, 3, 5, 5] given as a polygon has area 25 (like frBbox)', () => {
    const m = rasterizePolygons([[2, 3, 7, 3, 7, 8, 2, 8]], 10, 10);
    expect(area(m)).toBe(25);
    expect(pixels(m, 10)[0]).toBe('2,3');
  });

  it('pixel (x, y) is inside when its centre (x+.5, y+.5) is: 0.4..3.6 × 0.4..2.6 → 4 × 3 pixels', () => {
    const m = rasterizePolygons([[0.4, 0.4, 3.6, 0.4, 3.6, 2.6, 0.4, 2.6]], 6, 6);
    expect(area(m)).toBe(12);
    expect(pixels(m, 6)).toContain('3,2');
  });

  it('right triangle (0,0) (10,0) (0,10): centres strictly inside, x + y ≤ 8 → 45 pixels', () => {
    const m = rasterizePolygons([[0, 0, 10, 0, 0, 10]], 12, 12);
    expect(area(m)).toBe(45);
    expect(m[8 * 12 + 0]).toBe(1);
    expect(m[9 * 12 + 0]).toBe(0);
  });

  it('several polygons are OR-ed; parts outside the image are clipped', () => {
    const m = rasterizePolygons(
      [
        [0, 0, 4, 0, 4, 4, 0, 4],
        [2, 2, 6, 2, 6, 6, 2, 6],
        [-5, -5, 1, -5, 1, 1, -5, 1],
      ],
      8,
      8,
    );
    expect(area(m)).toBe(16 + 16 - 4);
  });

  it.each([
    [[[0, 0, 1, 1]], 'at least 3 points'],
    [[[0, 0, 1, 1, 2]], 'at least 3 points'],
    [[[0, 0, 1, Number.NaN, 2, 2]], 'finite'],
  ])('rejects %j', (polys, problem) => {
    expect(() => rasterizePolygons(polys, 4, 4, 'ann 3')).toThrow(InputError);
    expect(() => rasterizePolygons(polys, 4, 4, 'ann 3')).toThrow(problem);
  });
});

describe('maskToPolygons (pixel-edge contours, holes by keyhole bridges)', () => {
  it('a rectangle becomes its four corners', () => {
    const m = rasterizePolygons([[1, 2, 5, 2, 5, 4, 1, 4]], 8, 8);
    const polys = maskToPolygons(asMask(8, 8, m));
    expect(polys).toHaveLength(1);
    expect([...polys[0]!].sort()).toEqual([1, 2, 5, 2, 5, 4, 1, 4].sort());
  });

  it('a ring keeps its hole: one polygon, area 24 = 25 − 1', () => {
    const data = new Uint8Array(49);
    for (let y = 1; y <= 5; y++) for (let x = 1; x <= 5; x++) data[y * 7 + x] = x === 3 && y === 3 ? 0 : 1;
    const polys = maskToPolygons(asMask(7, 7, data));
    expect(polys).toHaveLength(1);
    const back = rasterizePolygons(polys, 7, 7);
    expect(area(back)).toBe(24);
    expect(back).toEqual(data);
  });

  it('pixels touching only at a corner are separate polygons (4-connectivity)', () => {
    const data = Uint8Array.from([1, 0, 0, 1]);
    const polys = maskToPolygons(asMask(2, 2, data));
    expect(polys).toHaveLength(2);
    expect(rasterizePolygons(polys, 2, 2)).toEqual(data);
  });

  it('an empty mask has no polygons', () => {
    expect(maskToPolygons(asMask(3, 3, new Uint8Array(9)))).toEqual([]);
  });

  it('mask → polygons → mask is exact for random masks (holes, islands in holes, diagonal touches)', () => {
    const randomMask = fc
      .record({ w: fc.integer({ min: 1, max: 16 }), h: fc.integer({ min: 1, max: 16 }) })
      .chain(({ w, h }) =>
        fc
          .array(fc.integer({ min: 0, max: 1 }), { minLength: w * h, maxLength: w * h })
          .map((bits) => asMask(w, h, Uint8Array.from(bits))),
      );
    fc.assert(
      fc.property(randomMask, (m) => {
        const polys = maskToPolygons(m);
        expect(rasterizePolygons(polys, m.width, m.height)).toEqual(m.data);
      }),
      { numRuns: 300 },
    );
  });

  it('polygon → mask → polygon → mask is stable for random polygons', () => {
    const point = fc.tuple(
      fc.double({ min: -2, max: 22, noNaN: true }),
      fc.double({ min: -2, max: 22, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(point, { minLength: 3, maxLength: 9 }), (pts) => {
        const first = rasterizePolygons([pts.flat()], 20, 20);
        const polys = maskToPolygons(asMask(20, 20, first));
        const second = rasterizePolygons(polys, 20, 20);
        expect(second).toEqual(first);
        expect(maskArea(asMask(20, 20, second))).toBe(area(first));
      }),
      { numRuns: 300 },
    );
  });

  it('rasterizing garbage polygons gives only InputErrors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.oneof(fc.double(), fc.integer()), { maxLength: 9 }), { maxLength: 3 }),
        (p) => {
          try {
            rasterizePolygons(p, 5, 5, 'g');
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
          }
        },
      ),
    );
  });
});
