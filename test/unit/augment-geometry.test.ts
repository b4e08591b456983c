import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  augmentSample,
  createRng,
  DEFAULT_AUGMENT,
  identityParams,
  sampleAugmentParams,
} from '../../main/model/augment';
import type { AugmentParams, Planes } from '../../main/model/augment';
import { createPlanes } from '../../main/model/augment/image';

/** A w×h single-channel image with a filled square of half-size r centred at (cx, cy). */
function square(w: number, h: number, cx: number, cy: number, r: number, channels = 1): Planes {
  const p = createPlanes(w, h, channels);
  for (let y = cy - r; y <= cy + r; y++)
    for (let x = cx - r; x <= cx + r; x++)
      for (let c = 0; c < channels; c++) p.data[(y * w + x) * channels + c] = 1;
  return p;
}

function centroid(p: Planes, channel = 0): { x: number; y: number; n: number } {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < p.height; y++)
    for (let x = 0; x < p.width; x++) {
      const v = p.data[(y * p.width + x) * p.channels + channel]!;
      sx += v * x;
      sy += v * y;
      n += v;
    }
  return { x: sx / n, y: sy / n, n };
}

function withAffine(a: Partial<AugmentParams['affine']>): AugmentParams {
  const p = identityParams();
  p.affine = { ...p.affine, ...a };
  return p;
}

describe('augment geometry', () => {
  it('identity parameters return the input unchanged', () => {
    const rng = createRng(1);
    const img = createPlanes(17, 13, 3);
    for (let i = 0; i < img.data.length; i++) img.data[i] = rng.normal();
    const masks = square(17, 13, 8, 6, 2, 3);
    const out = augmentSample(img, masks, identityParams());
    expect(out.image.data).toEqual(img.data);
    expect(out.masks.data).toEqual(masks.data);
    expect(out.image.data).not.toBe(img.data);
  });

  it('+90° turns a square 10 px right of the centre to 10 px below it (clockwise on screen)', () => {
    // 41×41: centre (20, 20); square centred at (30, 20) → (20, 30) by hand: (dx, dy) → (−dy, dx).
    const img = square(41, 41, 30, 20, 2);
    const out = augmentSample(img, square(41, 41, 30, 20, 2), withAffine({ rotationDeg: 90 }));
    const c = centroid(out.masks);
    expect(c.x).toBeCloseTo(20, 5);
    expect(c.y).toBeCloseTo(30, 5);
    expect(c.n).toBe(25);
    expect(centroid(out.image).y).toBeCloseTo(30, 5);
  });

  it('180° sends (30, 20) to (10, 20); a shift moves by whole pixels; scale 2 doubles the distance', () => {
    const mk = (): Planes => square(41, 41, 25, 20, 1);
    const rot = centroid(augmentSample(mk(), mk(), withAffine({ rotationDeg: 180 })).masks);
    expect([rot.x, rot.y]).toEqual([expect.closeTo(15, 5), expect.closeTo(20, 5)]);
    const sh = centroid(augmentSample(mk(), mk(), withAffine({ shiftX: 3, shiftY: -4 })).masks);
    expect([sh.x, sh.y]).toEqual([expect.closeTo(28, 5), expect.closeTo(16, 5)]);
    // 5 px right of centre at scale 2 → 10 px right; the 3×3 square grows to about 6×6.
    const sc = augmentSample(mk(), mk(), withAffine({ scale: 2 })).masks;
    const c = centroid(sc);
    expect(c.x).toBeCloseTo(30, 0);
    expect(c.y).toBeCloseTo(20, 0);
    expect(c.n).toBeGreaterThanOrEqual(25);
    expect(c.n).toBeLessThanOrEqual(49);
  });

  it('same seed gives the same output; another seed differs', () => {
    const run = (seed: number): Float32Array => {
      const rng = createRng(seed);
      const img = createPlanes(32, 32, 3);
      for (let i = 0; i < img.data.length; i++) img.data[i] = (i % 97) / 97;
      const params = sampleAugmentParams({ ...DEFAULT_AUGMENT, elasticProbability: 1 }, rng, 32, 32);
      return augmentSample(img, square(32, 32, 16, 16, 5, 3), params).image.data;
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('masks stay binary under any drawn parameters, including elastic warps', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 }), (seed) => {
        const rng = createRng(seed);
        const params = sampleAugmentParams(
          { ...DEFAULT_AUGMENT, elasticProbability: 0.5, rotationDeg: [-180, 180] },
          rng,
          24,
          20,
        );
        const out = augmentSample(createPlanes(24, 20, 1), square(24, 20, 12, 10, 4, 3), params);
        return out.masks.data.every((v) => v === 0 || v === 1);
      }),
      { numRuns: 60 },
    );
  });

  it('rejects image and masks of different sizes', () => {
    expect(() => augmentSample(createPlanes(4, 4, 1), createPlanes(5, 4, 3), identityParams())).toThrow(
      /4×4/,
    );
  });
});
