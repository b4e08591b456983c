import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { squaredDistanceToMask, type Dims3 } from '../../main/metrics/edt';
import { hausdorffDistance3d, normalisedHausdorff3d } from '../../main/metrics/hausdorff';

/** Independent truth: the definition, voxel by voxel against every foreground voxel. */
function bruteForceSquared(mask: Uint8Array, { depth, height, width }: Dims3): number[] {
  const fg: Array<[number, number, number]> = [];
  for (let z = 0; z < depth; z++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) if (mask[(z * height + y) * width + x]) fg.push([z, y, x]);
  const out: number[] = [];
  for (let z = 0; z < depth; z++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        let best = Infinity;
        for (const [a, b, c] of fg) best = Math.min(best, (z - a) ** 2 + (y - b) ** 2 + (x - c) ** 2);
        out.push(best);
      }
  return out;
}

function bruteForceHausdorff(a: Uint8Array, b: Uint8Array, dims: Dims3): number {
  const da = bruteForceSquared(a, dims);
  const db = bruteForceSquared(b, dims);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (b[i]) worst = Math.max(worst, da[i]!);
    if (a[i]) worst = Math.max(worst, db[i]!);
  }
  return Math.sqrt(worst);
}

const volume = fc
  .record({
    depth: fc.integer({ min: 1, max: 5 }),
    height: fc.integer({ min: 1, max: 7 }),
    width: fc.integer({ min: 1, max: 9 }),
  })
  .chain((dims) =>
    fc.record({
      dims: fc.constant(dims),
      density: fc.double({ min: 0, max: 0.5, noNaN: true }),
      seeds: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
        minLength: dims.depth * dims.height * dims.width * 2,
        maxLength: dims.depth * dims.height * dims.width * 2,
      }),
    }),
  );

describe('exact Euclidean distance transform', () => {
  it('equals the brute-force definition on random volumes', () => {
    fc.assert(
      fc.property(volume, ({ dims, density, seeds }) => {
        const n = dims.depth * dims.height * dims.width;
        const mask = Uint8Array.from(seeds.slice(0, n), (s) => (s < density ? 1 : 0));
        expect(Array.from(squaredDistanceToMask(mask, dims))).toEqual(bruteForceSquared(mask, dims));
      }),
      { numRuns: 300 },
    );
  });

  it('gives hand-computed distances from one voxel', () => {
    const dims = { depth: 2, height: 3, width: 4 };
    const mask = new Uint8Array(24);
    mask[0] = 1;
    const d = squaredDistanceToMask(mask, dims);
    expect(d[23]).toBe(1 + 4 + 9); // (1, 2, 3)
    expect(d[5]).toBe(1 + 1); // (0, 1, 1)
  });
});

describe('3-D Hausdorff distance', () => {
  it('matches brute force on random pairs of volumes', () => {
    fc.assert(
      fc.property(volume, ({ dims, density, seeds }) => {
        const n = dims.depth * dims.height * dims.width;
        const a = Uint8Array.from(seeds.slice(0, n), (s) => (s < density ? 1 : 0));
        const b = Uint8Array.from(seeds.slice(n), (s) => (s < density ? 1 : 0));
        const h = hausdorffDistance3d(a, b, dims);
        const emptyA = !a.some((v) => v);
        const emptyB = !b.some((v) => v);
        if (emptyA && emptyB) expect(h).toBeNull();
        else if (emptyA || emptyB) expect(h).toBe(Infinity);
        else expect(h).toBeCloseTo(bruteForceHausdorff(a, b, dims), 12);
      }),
      { numRuns: 300 },
    );
  });

  it('is √29 between single voxels at (0,0,0) and (2,3,4), normalised by the diagonal', () => {
    const dims = { depth: 3, height: 4, width: 5 };
    const a = new Uint8Array(60);
    const b = new Uint8Array(60);
    a[0] = 1;
    b[(2 * 4 + 3) * 5 + 4] = 1;
    expect(hausdorffDistance3d(a, b, dims)).toBeCloseTo(Math.sqrt(29), 12);
    expect(normalisedHausdorff3d(a, b, dims)).toBeCloseTo(Math.sqrt(29) / Math.sqrt(9 + 16 + 25), 12);
  });

  it('counts interior voxels, not only the boundary (disk inside a ring)', () => {
    // 1 slice, 9×9: a is the ring at Chebyshev radius 4, b fills the inside; farthest b voxel is the centre.
    const dims = { depth: 1, height: 9, width: 9 };
    const a = new Uint8Array(81);
    const b = new Uint8Array(81);
    for (let y = 0; y < 9; y++)
      for (let x = 0; x < 9; x++) {
        const r = Math.max(Math.abs(y - 4), Math.abs(x - 4));
        if (r === 4) a[y * 9 + x] = 1;
        else b[y * 9 + x] = 1;
      }
    expect(hausdorffDistance3d(a, b, dims)).toBe(4);
  });

  it('is 1 normalised when exactly one side is empty and null when both are', () => {
    const dims = { depth: 2, height: 2, width: 2 };
    const some = Uint8Array.from([0, 1, 0, 0, 0, 0, 0, 0]);
    expect(normalisedHausdorff3d(some, new Uint8Array(8), dims)).toBe(1);
    expect(normalisedHausdorff3d(new Uint8Array(8), some, dims)).toBe(1);
    expect(normalisedHausdorff3d(new Uint8Array(8), new Uint8Array(8), dims)).toBeNull();
    expect(normalisedHausdorff3d(some, some, dims)).toBe(0);
  });
});
