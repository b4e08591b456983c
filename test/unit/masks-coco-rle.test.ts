import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { pythonWith } from '../helpers/python';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import type { BinaryMask } from '../../main/core/types';
import {
  compressCounts,
  decodeCocoRle,
  decompressCounts,
  encodeCocoRle,
  encodeUncompressedRle,
  maskArea,
  maskBbox,
  rleArea,
  rleBbox,
  rleIou,
  type CocoRle,
} from '../../main/masks/coco-rle';
import { FIXTURES, REPO_ROOT, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const mask = (w: number, h: number, rows: number[][]): BinaryMask => ({
  width: w,
  height: h,
  data: Uint8Array.from(rows.flat()),
});

describe('COCO RLE by hand', () => {
  it('runs down columns, starting with background', () => {
    // [[0,1,1],[1,0,0]] read column by column: 0 1 | 1 0 | 1 0 → runs 1,2,1,1,1
    const m = mask(3, 2, [
      [0, 1, 1],
      [1, 0, 0],
    ]);
    expect(encodeUncompressedRle(m)).toEqual({ size: [2, 3], counts: [1, 2, 1, 1, 1] });
    // '1','2','1', then 1−2 = −1 → 0x1f → 'O', then 1−1 = 0 → '0'
    expect(encodeCocoRle(m)).toEqual({ size: [2, 3], counts: '121O0' });
    expect(
      encodeUncompressedRle(
        mask(2, 2, [
          [1, 1],
          [1, 1],
        ]),
      ).counts,
    ).toEqual([0, 4]);
    expect(
      encodeUncompressedRle(
        mask(2, 2, [
          [0, 0],
          [0, 0],
        ]),
      ).counts,
    ).toEqual([4]);
  });

  it('packs counts 6 bits a character with a continuation bit', () => {
    expect(compressCounts([100])).toBe('T3'); // 100 = 3·32 + 4: 4|0x20 → 'T', then 3 → '3'
    expect(decompressCounts('T3', 'x')).toEqual([100]);
    expect(decompressCounts('121O0', 'x')).toEqual([1, 2, 1, 1, 1]);
  });

  it('area, bbox and IoU of small masks', () => {
    const a = mask(4, 3, [
      [0, 1, 1, 0],
      [0, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
    const b = mask(4, 3, [
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [0, 0, 0, 0],
    ]);
    const ra = encodeCocoRle(a);
    const rb = encodeCocoRle(b);
    expect(rleArea(ra)).toBe(4);
    expect(rleBbox(ra)).toEqual([1, 0, 2, 2]);
    expect(maskBbox(a)).toEqual([1, 0, 2, 2]);
    expect(
      rleBbox(
        encodeCocoRle(
          mask(2, 2, [
            [0, 0],
            [0, 0],
          ]),
        ),
      ),
    ).toEqual([0, 0, 0, 0]);
    // overlap 2 pixels, union 6 → 1/3; as a crowd gt: 2 / area(dt)=4 → 1/2
    expect(rleIou([ra], [rb], [false])[0]![0]).toBeCloseTo(1 / 3, 12);
    expect(rleIou([ra], [rb], [true])[0]![0]).toBeCloseTo(1 / 2, 12);
    expect(rleIou([ra, rb], [ra], [false])).toEqual([[1], [1 / 3]]);
    // different image sizes with overlapping boxes: -1, as pycocotools
    expect(
      rleIou(
        [ra],
        [
          encodeCocoRle(
            mask(2, 2, [
              [1, 1],
              [1, 1],
            ]),
          ),
        ],
        [false],
      ),
    ).toEqual([[-1]]);
  });

  it.each([
    ['p', "character 'p'"],
    ['1 ', "character ' '"],
    ['T', 'end in the middle'],
    ['0000', 'cover 0 pixels'],
    ['00O', 'negative run length'],
    ['hhhhhhhh0', 'impossibly long'],
  ])('rejects compressed counts %j', (counts, problem) => {
    const call = () => decodeCocoRle({ size: [2, 2], counts }, 'ann 7');
    expect(call).toThrow(InputError);
    expect(call).toThrow(problem);
    expect(call).toThrow(/^ann 7: /);
  });

  it('rejects runs that do not cover the image and bad sizes', () => {
    expect(() => decodeCocoRle({ size: [2, 2], counts: [1, 2] }, 'a')).toThrow('cover 3 pixels');
    expect(() => decodeCocoRle({ size: [2, -2], counts: [0] } as never, 'a')).toThrow(InputError);
    expect(() => decodeCocoRle({ size: [2, 2], counts: [1, -1, 4] }, 'a')).toThrow(InputError);
  });
});

const randomMask = fc
  .record({ w: fc.integer({ min: 1, max: 24 }), h: fc.integer({ min: 1, max: 24 }), seed: fc.nat() })
  .chain(({ w, h }) =>
    fc
      .array(fc.integer({ min: 0, max: 1 }), { minLength: w * h, maxLength: w * h })
      .map((bits): BinaryMask => ({ width: w, height: h, data: Uint8Array.from(bits) })),
  );

describe('COCO RLE properties', () => {
  it('compressed and uncompressed round-trip random masks; area and bbox agree with the pixels', () => {
    fc.assert(
      fc.property(randomMask, (m) => {
        const c = encodeCocoRle(m);
        const u = encodeUncompressedRle(m);
        expect(decodeCocoRle(c, 'x')).toEqual(m);
        expect(decodeCocoRle(u, 'x')).toEqual(m);
        expect(decompressCounts(c.counts, 'x')).toEqual(u.counts);
        expect(rleArea(c)).toBe(maskArea(m));
        expect(rleBbox(c)).toEqual(maskBbox(m));
      }),
    );
  });

  it('compressCounts/decompressCounts round-trip any non-negative counts, large ones included', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 33 }), { maxLength: 30 }), (counts) => {
        expect(decompressCounts(compressCounts(counts), 'x')).toEqual(counts);
      }),
    );
  });

  it('gives only InputErrors for garbage', () => {
    const size = fc.oneof(
      fc.tuple(fc.integer({ min: -2, max: 6 }), fc.integer({ min: -2, max: 6 })),
      fc.anything(),
    );
    const counts = fc.oneof(
      fc.string(),
      fc.stringMatching(/^[0-o]{0,12}$/),
      fc.array(fc.integer({ min: -3, max: 40 })),
      fc.anything(),
    );
    fc.assert(
      fc.property(size, counts, (s, c) => {
        try {
          decodeCocoRle({ size: s, counts: c } as unknown as CocoRle, 'g');
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: 500 },
    );
  });
});

const python = pythonWith(['numpy']);

describe.skipIf(!python)('COCO RLE against the numpy reference (test/reference/masks_coco_rle.py)', () => {
  it('counts, strings, areas, boxes and IoU (crowd and not) agree', () => {
    const masks = fc.sample(randomMask, { numRuns: 40, seed: 42 });
    // Sparse, dense, empty and full masks too, so boxes and IoU see every case.
    masks.push(
      { width: 9, height: 7, data: new Uint8Array(63) },
      { width: 9, height: 7, data: new Uint8Array(63).fill(1) },
      { width: 9, height: 7, data: Uint8Array.from({ length: 63 }, (_, i) => (i % 11 === 3 ? 1 : 0)) },
      { width: 9, height: 7, data: Uint8Array.from({ length: 63 }, (_, i) => (i % 9 > 4 && i > 20 ? 1 : 0)) },
    );
    const crowd = masks.map((_, i) => i % 3 === 0);
    const request = {
      masks: masks.map((m) => ({ h: m.height, w: m.width, data: Array.from(m.data) })),
      crowd,
    };
    const run = spawnSync(python!, [path.join(REPO_ROOT, 'test/reference/masks_coco_rle.py')], {
      input: JSON.stringify(request),
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const ref = JSON.parse(run.stdout) as {
      counts: number[][];
      strings: string[];
      areas: number[];
      bboxes: number[][];
      iou: number[][];
    };
    const rles = masks.map(encodeCocoRle);
    masks.forEach((m, i) => {
      expect(encodeUncompressedRle(m).counts).toEqual(ref.counts[i]);
      expect(rles[i]!.counts).toBe(ref.strings[i]);
      expect(rleArea(rles[i]!)).toBe(ref.areas[i]);
      expect(rleBbox(rles[i]!)).toEqual(ref.bboxes[i]);
    });
    const iou = rleIou(rles, rles, crowd);
    masks.forEach((d, i) =>
      masks.forEach((g, j) => {
        // pycocotools gives -1 for differently sized images whose boxes overlap; numpy cannot compare them.
        if (d.width !== g.width || d.height !== g.height) return;
        expect(iou[i]![j]).toBeCloseTo(ref.iou[i]![j]!, 12);
      }),
    );
  });
});

interface FileAnnotation {
  id: number;
  area: number;
  bbox: number[];
  segmentation: { size: [number, number]; counts: string };
}

function checkPycocotoolsFile(file: string): void {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { annotations: FileAnnotation[] };
  expect(json.annotations).toHaveLength(33);
  for (const ann of json.annotations) {
    const rle = ann.segmentation;
    const where = `${file} annotation ${ann.id}`;
    expect(compressCounts(decompressCounts(rle.counts, where))).toBe(rle.counts);
    const m = decodeCocoRle(rle, where);
    expect(encodeCocoRle(m)).toEqual(rle);
    expect(rleArea(rle)).toBe(ann.area);
    expect(maskArea(m)).toBe(ann.area);
    expect(rleBbox(rle)).toEqual(ann.bbox);
    expect(maskBbox(m)).toEqual(ann.bbox);
  }
}

describe('COCO RLE on the pycocotools-written fixture copy', () => {
  it('decode → encode gives the identical counts string; area and bbox equal the file', () => {
    checkPycocotoolsFile(path.join(FIXTURES, 'masks/site-sample.annotations.coco.json'));
  });
});

describeWithSharedData('COCO RLE on site-sample/annotations.coco.json', () => {
  it('decode → encode gives the identical counts string; area and bbox equal the file', () => {
    checkPycocotoolsFile(sharedPath('site-sample/annotations.coco.json'));
  });
});
