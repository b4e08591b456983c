import { spawnSync } from 'node:child_process';
import { pythonWith } from '../helpers/python';
import { describe, expect, it } from 'vitest';
import {
  labelComponents,
  gateMinPixelsFor,
  minComponentPixelsFor,
  postprocessOrgan,
  removeSmallComponents,
  type OrganPostprocess,
} from '../../main/model/postprocess';

const rows = (...lines: string[]) => ({
  width: lines[0]!.length,
  height: lines.length,
  data: Uint8Array.from(lines.join('').split(''), (c) => (c === '#' ? 1 : 0)),
});

const P: OrganPostprocess = { threshold: 0.5, gateThreshold: 0.8, gateMinPixels: 2, minComponentPixels: 1 };

describe('connected components (8-neighbour)', () => {
  it('joins diagonal neighbours and counts sizes', () => {
    const mask = rows('#..#', '.#..', '....', '##.#');
    const { labels, sizes } = labelComponents(mask);
    // components: {(0,0),(1,1)} diagonal pair; {(3,0)}; {(0,3),(1,3)}; {(3,3)}
    expect(sizes.slice(1).sort()).toEqual([1, 1, 2, 2]);
    expect(labels[0]).toBe(labels[5]);
    expect(labels[12]).toBe(labels[13]);
  });

  it('removes components below the minimum size', () => {
    const mask = rows('#..#', '.#..', '....', '##.#');
    expect(removeSmallComponents(mask, 2)).toBe(2);
    expect(Array.from(mask.data).join('')).toBe(rows('#...', '.#..', '....', '##..').data.join(''));
  });

  it('labels like scipy.ndimage.label with a 3×3 structure on random masks', (ctx) => {
    const python = pythonWith(['numpy', 'scipy.ndimage']);
    if (!python) return ctx.skip();
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const masks = Array.from({ length: 6 }, (_, k) => {
      const width = 20 + k * 7;
      const height = 15 + k * 5;
      return {
        width,
        height,
        data: Uint8Array.from({ length: width * height }, () => (rand() < 0.45 ? 1 : 0)),
      };
    });
    const script = `
import json, sys, numpy as np
from scipy import ndimage
out = []
for m in json.load(sys.stdin):
    a = np.array(m["data"], dtype=np.uint8).reshape(m["height"], m["width"])
    lab, n = ndimage.label(a, structure=np.ones((3, 3)))
    out.append(sorted(np.bincount(lab.ravel())[1:].tolist()))
print(json.dumps(out))`;
    const py = spawnSync(python, ['-c', script], {
      input: JSON.stringify(masks.map((m) => ({ ...m, data: Array.from(m.data) }))),
      encoding: 'utf8',
    });
    expect(py.status, py.stderr).toBe(0);
    const expected = JSON.parse(py.stdout) as number[][];
    masks.forEach((m, i) => {
      expect(
        labelComponents(m)
          .sizes.slice(1)
          .sort((a, b) => a - b),
      ).toEqual(expected[i]);
    });
  });
});

describe('postprocessOrgan', () => {
  const prob = Float32Array.from([
    0.9, 0.6, 0.1, 0.0, 0.85, 0.55, 0.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6,
  ]);

  it('thresholds, and scores by the mean probability inside the mask', () => {
    const r = postprocessOrgan(prob, 4, 4, P);
    expect(Array.from(r.mask!.data)).toEqual([1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(r.score).toBeCloseTo((0.9 + 0.6 + 0.85 + 0.55 + 0.6) / 5, 6);
  });

  it('gates the organ out when too few pixels pass the stricter threshold', () => {
    // two pixels exceed 0.8: kept with gateMinPixels 2, dropped with 3
    expect(postprocessOrgan(prob, 4, 4, { ...P, gateMinPixels: 3 })).toEqual({ mask: undefined, score: 0 });
    expect(postprocessOrgan(prob, 4, 4, P).mask).toBeDefined();
  });

  it('sizes the gate in mm² when the spacing is known, so it covers the same anatomy at any resolution', () => {
    // 6 mm² at 1.5 × 1.5 mm pixels (2.25 mm²) = 2.7 → 3 pixels: two pixels above 0.8 are too few
    expect(gateMinPixelsFor({ ...P, gateMinMm2: 6 }, [1.5, 1.5])).toBe(3);
    expect(postprocessOrgan(prob, 4, 4, { ...P, gateMinMm2: 6 }, [1.5, 1.5]).mask).toBeUndefined();
    // 4 mm² = 1.8 → 2 pixels: kept; without spacing the pixel rule (2) applies
    expect(postprocessOrgan(prob, 4, 4, { ...P, gateMinMm2: 4 }, [1.5, 1.5]).mask).toBeDefined();
    expect(gateMinPixelsFor({ ...P, gateMinPixels: 9, gateMinMm2: 6 }, null)).toBe(9);
  });

  it('drops small components, by pixels or by mm² when the spacing is known', () => {
    const r = postprocessOrgan(prob, 4, 4, { ...P, minComponentPixels: 2 });
    expect(r.mask!.data[15]).toBe(0);
    expect(r.score).toBeCloseTo((0.9 + 0.6 + 0.85 + 0.55) / 4, 6);
    // 5 mm² at 1.5 × 1.5 mm pixels (2.25 mm²) = 2.2 → 3 pixels; without spacing the pixel rule applies
    expect(minComponentPixelsFor({ ...P, minComponentMm2: 5 }, [1.5, 1.5])).toBe(3);
    expect(minComponentPixelsFor({ ...P, minComponentPixels: 7, minComponentMm2: 5 }, null)).toBe(7);
    const big = postprocessOrgan(prob, 4, 4, { ...P, minComponentMm2: 10 }, [1.5, 1.5]); // 5 px minimum
    expect(big).toEqual({ mask: undefined, score: 0 });
  });

  it('visits only the box it is given, with the same result where the map is 0 outside it', () => {
    // A 12×10 map: blobs of several sizes inside x 3…9, y 2…8, zero elsewhere.
    const [w, h] = [12, 10];
    const map = new Float32Array(w * h);
    for (let y = 2; y < 8; y++) {
      for (let x = 3; x < 9; x++) map[y * w + x] = ((x * 3 + y * 5) % 10) / 10;
    }
    const post = { ...P, threshold: 0.65, minComponentPixels: 3 };
    const whole = postprocessOrgan(map, w, h, post);
    const boxed = postprocessOrgan(map, w, h, post, null, { x0: 3, x1: 9, y0: 2, y1: 8 });
    // 12 pixels pass the threshold; components of 1 or 2 pixels (6 of them) are dropped
    expect(whole.mask!.data.filter((v) => v).length).toBe(6);
    expect(boxed).toEqual(whole);
    // A pixel outside the box is never looked at.
    map[0] = 1;
    expect(postprocessOrgan(map, w, h, post, null, { x0: 3, x1: 9, y0: 2, y1: 8 })).toEqual(whole);
  });

  it('returns nothing for an all-background map', () => {
    expect(postprocessOrgan(new Float32Array(16), 4, 4, { ...P, gateMinPixels: 0 })).toEqual({
      mask: undefined,
      score: 0,
    });
  });
});
