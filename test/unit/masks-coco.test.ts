import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import type { SliceMasks } from '../../main/core/types';
import {
  annotationToMask,
  buildCocoDataset,
  buildCocoResults,
  cocoToSliceMasks,
  parseCocoDataset,
  parseCocoResults,
  parseSegmentation,
} from '../../main/masks/coco';
import { encodeCocoRle, rleIou } from '../../main/masks/coco-rle';
import { FIXTURES } from '../helpers/shared-data';

const FILE = path.join(FIXTURES, 'masks/site-sample.annotations.coco.json');
const readFixture = (): {
  images: Array<Record<string, unknown>>;
  annotations: Array<Record<string, unknown>>;
  categories: unknown[];
} => JSON.parse(readFileSync(FILE, 'utf8'));

describe('parseCocoDataset on the pycocotools-written site sample', () => {
  it('reads 16 images, 33 annotations and the three categories', () => {
    const ds = parseCocoDataset(readFixture(), FILE);
    expect(ds.images).toHaveLength(16);
    expect(ds.annotations).toHaveLength(33);
    expect(ds.categories.map((c) => c.name)).toEqual(['large_bowel', 'small_bowel', 'stomach']);
    expect(ds.images[0]).toEqual({
      id: 1,
      file_name: 'images/case101_day20_slice_0078.png',
      width: 512,
      height: 512,
    });
  });

  it('cocoToSliceMasks gives every image its organs with the file areas', () => {
    const ds = parseCocoDataset(readFixture(), FILE);
    const masks = cocoToSliceMasks(ds, FILE);
    expect(masks.size).toBe(16);
    for (const ann of ds.annotations) {
      const organ = (['large_bowel', 'small_bowel', 'stomach'] as const)[ann.category_id - 1];
      const m = masks.get(ann.image_id)![organ]!;
      expect(m.data.reduce((n, v) => n + v, 0)).toBe(ann.area);
    }
  });

  it('rebuilding the dataset from its masks gives identical annotations (ids, RLE strings, area, bbox)', () => {
    const ds = parseCocoDataset(readFixture(), FILE);
    const masks = cocoToSliceMasks(ds, FILE);
    const rebuilt = buildCocoDataset(
      ds.images.map((img) => ({
        fileName: img.file_name,
        width: img.width,
        height: img.height,
        masks: masks.get(img.id)!,
      })),
      { info: { description: 'x' } },
    );
    expect(rebuilt.images).toEqual(ds.images);
    expect(rebuilt.annotations).toEqual(ds.annotations);
  });

  it('real masks survive export as pixel-exact polygons (holes kept) and re-import', () => {
    const ds = parseCocoDataset(readFixture(), FILE);
    const masks = cocoToSliceMasks(ds, FILE);
    const slices = ds.images.map((img) => ({
      fileName: img.file_name,
      width: img.width,
      height: img.height,
      masks: masks.get(img.id)!,
    }));
    const viaPolygons = parseCocoDataset(
      JSON.parse(JSON.stringify(buildCocoDataset(slices, { polygons: true }))),
      'p',
    );
    const back = cocoToSliceMasks(viaPolygons, 'p');
    ds.annotations.forEach((ann, i) => {
      expect(Array.isArray(viaPolygons.annotations[i]!.segmentation)).toBe(true);
      expect(viaPolygons.annotations[i]!.area).toBe(ann.area);
      const organ = (['large_bowel', 'small_bowel', 'stomach'] as const)[ann.category_id - 1];
      expect(encodeCocoRle(back.get(ann.image_id)![organ]!)).toEqual(ann.segmentation);
    });
  });

  it("accepts RLE written as a Python dict string (\"{'size': …, 'counts': '…'}\", also b'…')", () => {
    const json = readFixture();
    // Annotation 8's counts begin with a backslash, which Python's repr doubles.
    const ann = json.annotations[7]!;
    const counts = (ann.segmentation as { counts: string }).counts;
    expect(counts.startsWith('\\')).toBe(true);
    ann.segmentation = `{'size': [512, 512], 'counts': '${counts.replace(/\\/g, '\\\\')}'}`;
    json.annotations[8]!.segmentation = `{'size': [512, 512], 'counts': b'${(json.annotations[8]!.segmentation as { counts: string }).counts.replace(/\\/g, '\\\\')}'}`;
    const ds = parseCocoDataset(json, FILE);
    expect(ds.annotations[7]!.segmentation).toEqual({ size: [512, 512], counts });
    const original = parseCocoDataset(readFixture(), FILE);
    for (const i of [7, 8]) {
      const image = original.images.find((img) => img.id === original.annotations[i]!.image_id)!;
      const m = annotationToMask(ds.annotations[i]!, image, FILE);
      expect(encodeCocoRle(m)).toEqual(original.annotations[i]!.segmentation);
    }
  });

  it('fills in area and bbox when the file leaves them out, as pycocotools computes them', () => {
    const json = readFixture();
    const { area, bbox } = json.annotations[0]!;
    delete json.annotations[0]!.area;
    delete json.annotations[0]!.bbox;
    const ds = parseCocoDataset(json, FILE);
    expect(ds.annotations[0]!.area).toBe(area);
    expect(ds.annotations[0]!.bbox).toEqual(bbox);
  });
});

describe('parseCocoDataset errors name the file and field', () => {
  const cases: Array<[string, (j: ReturnType<typeof readFixture>) => void, string]> = [
    [
      'bad category id',
      (j) => (j.annotations[12]!.category_id = 7),
      'annotations[12].category_id: 7 is not 1, 2 or 3',
    ],
    [
      'unknown image',
      (j) => (j.annotations[3]!.image_id = 99),
      'annotations[3].image_id: no image has id 99',
    ],
    ['duplicate annotation id', (j) => (j.annotations[4]!.id = 1), 'annotations[4].id: 1 is used twice'],
    ['duplicate image id', (j) => (j.images[2]!.id = 1), 'images[2].id: 1 is used twice'],
    ['missing file_name', (j) => delete j.images[5]!.file_name, 'images[5].file_name'],
    [
      'RLE size not the image size',
      (j) => {
        delete j.annotations[2]!.area;
        (j.annotations[2]!.segmentation as { size: number[] }).size = [256, 512];
      },
      "annotations[2].segmentation: RLE size [256, 512] is not the image's [height, width]",
    ],
    [
      'bad segmentation',
      (j) => (j.annotations[1]!.segmentation = 5),
      'annotations[1].segmentation: segmentation must be',
    ],
    [
      'bad RLE string',
      (j) => (j.annotations[1]!.segmentation = "{'size': [1, 2]}"),
      'annotations[1].segmentation: segmentation string is not of the form',
    ],
    [
      'category names differ',
      (j) => (j.categories = [{ id: 1, name: 'stomach' }]),
      "categories[0]: 1 'stomach'",
    ],
    ['images not a list', (j) => ((j as Record<string, unknown>).images = {}), 'images: '],
  ];
  it.each(cases)('%s', (_name, mutate, message) => {
    const json = readFixture();
    mutate(json);
    const call = () => parseCocoDataset(json, 'ann.json');
    expect(call).toThrow(InputError);
    expect(call).toThrow(`ann.json: ${message}`);
  });

  it('parseSegmentation checks polygons', () => {
    expect(() => parseSegmentation([[1, 2, 3]], 'p')).toThrow('polygon 0 has 3 numbers');
    expect(() => parseSegmentation([['1', 2, 3, 4, 5, 6]], 'p')).toThrow(
      'polygon 0 is not a list of numbers',
    );
    expect(parseSegmentation([[0, 0, 2, 0, 2, 2]], 'p')).toEqual([[0, 0, 2, 0, 2, 2]]);
  });
});

const square = (w: number, h: number, x0: number, y0: number, size: number) => {
  const data = new Uint8Array(w * h);
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) data[y * w + x] = 1;
  return { width: w, height: h, data };
};

describe('buildCocoDataset / buildCocoResults', () => {
  const slices: Array<{ fileName: string; width: number; height: number; masks: SliceMasks }> = [
    {
      fileName: 'train/case1/case1_day0/scans/slice_0001_8_6_1.50_1.50.png',
      width: 8,
      height: 6,
      masks: { stomach: square(8, 6, 1, 1, 3), small_bowel: square(8, 6, 4, 2, 2) },
    },
    { fileName: 'train/case1/case1_day0/scans/slice_0002_8_6_1.50_1.50.png', width: 8, height: 6, masks: {} },
    {
      fileName: 'train/case1/case1_day0/scans/slice_0003_8_6_1.50_1.50.png',
      width: 8,
      height: 6,
      masks: {
        large_bowel: square(8, 6, 0, 0, 2),
        stomach: { width: 8, height: 6, data: new Uint8Array(48) },
      },
    },
  ];

  it.each([false, true])('round-trips masks through JSON (polygons: %s)', (polygons) => {
    const ds = buildCocoDataset(slices, { polygons });
    expect(ds.images.map((i) => i.file_name)).toEqual(slices.map((s) => s.fileName));
    // organs in ORGANS order per image; the empty stomach mask of slice 3 is no annotation
    expect(ds.annotations.map((a) => [a.id, a.image_id, a.category_id, a.area, a.bbox])).toEqual([
      [1, 1, 2, 4, [4, 2, 2, 2]],
      [2, 1, 3, 9, [1, 1, 3, 3]],
      [3, 3, 1, 4, [0, 0, 2, 2]],
    ]);
    expect(ds.categories).toEqual([
      { id: 1, name: 'large_bowel', supercategory: 'gi_tract' },
      { id: 2, name: 'small_bowel', supercategory: 'gi_tract' },
      { id: 3, name: 'stomach', supercategory: 'gi_tract' },
    ]);
    expect(ds.annotations.every((a) => a.iscrowd === 0)).toBe(true);
    const back = cocoToSliceMasks(parseCocoDataset(JSON.parse(JSON.stringify(ds)), 'x.json'), 'x.json');
    expect(back.get(1)).toEqual(slices[0]!.masks);
    expect(back.get(2)).toEqual({});
    expect(back.get(3)).toEqual({ large_bowel: slices[2]!.masks.large_bowel });
  });

  it('OR-s several annotations of one organ on one image', () => {
    const ds = buildCocoDataset([slices[0]!]);
    ds.annotations[1]!.category_id = 2; // now two small_bowel annotations
    const masks = cocoToSliceMasks(ds, 'x');
    expect(masks.get(1)!.stomach).toBeUndefined();
    expect(masks.get(1)!.small_bowel!.data.reduce((n, v) => n + v, 0)).toBe(13);
  });

  it('results carry scores, parse back, and score IoU against the ground truth', () => {
    const results = buildCocoResults([{ imageId: 1, masks: slices[0]!.masks, scores: { stomach: 0.9 } }]);
    expect(results.map((r) => [r.image_id, r.category_id, r.score])).toEqual([
      [1, 2, 1],
      [1, 3, 0.9],
    ]);
    const parsed = parseCocoResults(JSON.parse(JSON.stringify(results)), 'res.json');
    expect(parsed).toEqual(results);
    const gt = buildCocoDataset([slices[0]!]).annotations;
    const iou = rleIou(
      parsed.map((r) => r.segmentation),
      gt.map((a) => a.segmentation as never),
      [false, false],
    );
    expect(iou).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('parseCocoResults rejects bad scores and polygons', () => {
    const [r] = buildCocoResults([{ imageId: 1, masks: slices[0]!.masks }]);
    expect(() => parseCocoResults([{ ...r, score: 'high' }], 'res.json')).toThrow('res.json: [0].score');
    expect(() => parseCocoResults([{ ...r, segmentation: [[0, 0, 1, 0, 1, 1]] }], 'res.json')).toThrow(
      'must be compressed RLE',
    );
    expect(() => parseCocoResults({}, 'res.json')).toThrow(InputError);
  });

  it('annotationToMask decodes polygons at the image size', () => {
    const ds = buildCocoDataset([slices[0]!], { polygons: true });
    const m = annotationToMask(ds.annotations[1]!, ds.images[0]!, 'x');
    expect(m).toEqual(slices[0]!.masks.stomach);
  });
});

describe('COCO parsers on garbage', () => {
  it('throw only InputError, for random JSON and for the real file with random parts replaced', () => {
    const base = readFixture();
    const mutated = fc
      .tuple(
        fc.constantFrom('images', 'annotations', 'categories'),
        fc.nat(40),
        fc.constantFrom(
          'id',
          'image_id',
          'category_id',
          'segmentation',
          'area',
          'bbox',
          'iscrowd',
          'width',
          'size',
        ),
        fc.oneof(
          fc.jsonValue(),
          fc.constantFrom("{'size': [512, 512], 'counts': 'p'}", [[1, 2, 3, 4, 5, 6]]),
        ),
      )
      .map(([list, i, key, value]) => {
        const json = structuredClone(base) as Record<string, Array<Record<string, unknown>>>;
        const entry = json[list]![i % json[list]!.length];
        if (entry) entry[key] = value;
        return json;
      });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything(), mutated), (json) => {
        for (const parse of [parseCocoDataset, parseCocoResults]) {
          try {
            const parsed = parse(json, 'g.json');
            if (!Array.isArray(parsed)) cocoToSliceMasks(parsed, 'g.json');
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
