import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ORGANS } from '../../main/core/organs';
import { allScans, type BinaryMask } from '../../main/core/types';
import { openCocoDataset, openColourMaskPairs } from '../../main/imaging/coco-images';
import { writePngGray8 } from '../../main/imaging/png';
import { FIXTURES, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-coco-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const SAMPLE = path.join(FIXTURES, 'imaging/site-sample');

const area = (m: BinaryMask | undefined) => (m ? m.data.reduce((a, v) => a + v, 0) : 0);
function dice(a: BinaryMask, b: BinaryMask): number {
  let both = 0;
  for (let i = 0; i < a.data.length; i++) both += a.data[i]! & b.data[i]!;
  return (2 * both) / (area(a) + area(b));
}

/** Areas pycocotools wrote into the JSON (an independent count of each annotation's pixels). */
function areasInJson(file: string): Map<string, number> {
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    images: { id: number; file_name: string }[];
    annotations: { image_id: number; category_id: number; area: number }[];
  };
  const names = new Map(json.images.map((i) => [i.id, i.file_name]));
  const out = new Map<string, number>();
  for (const a of json.annotations) {
    const key = `${/case\d+_day\d+_slice_\d+/.exec(names.get(a.image_id)!)![0]} ${ORGANS[a.category_id - 1]}`;
    out.set(key, (out.get(key) ?? 0) + a.area);
  }
  return out;
}

describe('COCO datasets with their images', () => {
  it('opens the fixture: one scan, masks with the areas the JSON states', async () => {
    const file = path.join(SAMPLE, 'annotations.coco.json');
    const dataset = await openCocoDataset(file);
    const [scan] = allScans(dataset);
    expect(scan).toMatchObject({
      id: 'case101_day20',
      patientId: 'case101',
      day: 'day20',
      width: 512,
      source: 'coco',
    });
    expect(scan!.slices.map((s) => s.id)).toEqual(['case101_day20_slice_0078']);
    const masks = dataset.masks.get('case101_day20_slice_0078')!;
    expect(area(masks.large_bowel)).toBe(989);
    expect(area(masks.stomach)).toBe(8765);
    expect(masks.small_bowel).toBeUndefined();
    expect((await scan!.readSlice(0)).data).toBeInstanceOf(Uint8Array);
  });

  it('a listed image that is missing fails only its scan: the others open, the file is named once', async () => {
    const dir = path.join(tmp, 'partly-missing');
    const names = ['case1_day1_slice_0001.png', 'case1_day1_slice_0002.png', 'case2_day1_slice_0001.png'];
    for (const name of names)
      await writePngGray8(path.join(dir, 'images', name), {
        width: 2,
        height: 1,
        data: new Uint8Array([1, 2]),
      });
    const file = path.join(dir, 'dataset.json');
    writeFileSync(
      file,
      JSON.stringify({
        images: [...names, 'case1_day1_slice_0003.png'].map((n, i) => ({
          id: i + 1,
          file_name: `images/${n}`,
          width: 2,
          height: 1,
        })),
        annotations: [],
        categories: [],
      }),
    );
    const dataset = await openCocoDataset(file);
    const missing = path.join(dir, 'images/case1_day1_slice_0003.png');
    expect(dataset.warnings).toEqual([{ where: missing, problem: expect.stringMatching(/^file not found/) }]);
    const scans = new Map(allScans(dataset).map((s) => [s.id, s]));
    expect(Array.from((await scans.get('case2_day1')!.readSlice(0)).data)).toEqual([1, 2]);
    await expect(scans.get('case1_day1')!.readSlice(2)).rejects.toThrow(`${missing}: file not found`);
    // every image missing: nothing to open, one line
    const none = path.join(dir, 'none.json');
    const image = { id: 1, file_name: 'x.png', width: 2, height: 1 };
    writeFileSync(none, JSON.stringify({ images: [image], annotations: [], categories: [] }));
    await expect(openCocoDataset(none)).rejects.toThrow(/none of the 1 listed images can be read/);
  });

  it('images without caseN_dayD names are grouped by folder and numbered by their names', async () => {
    for (const name of ['img10.png', 'img2.png']) {
      await writePngGray8(path.join(tmp, 'scanA', name), {
        width: 2,
        height: 1,
        data: new Uint8Array([1, 2]),
      });
    }
    const file = path.join(tmp, 'plain.json');
    writeFileSync(
      file,
      JSON.stringify({
        images: [
          { id: 1, file_name: 'scanA/img10.png', width: 2, height: 1 },
          { id: 2, file_name: 'scanA/img2.png', width: 2, height: 1 },
        ],
        annotations: [
          { id: 1, image_id: 1, category_id: 2, segmentation: { size: [1, 2], counts: [1, 1] }, iscrowd: 1 },
        ],
      }),
    );
    const dataset = await openCocoDataset(file);
    const [scan] = allScans(dataset);
    expect(scan!.id).toBe('scanA');
    expect(scan!.slices.map((s) => s.id)).toEqual(['scanA_slice_0002', 'scanA_slice_0010']);
    expect(Array.from(dataset.masks.get('scanA_slice_0010')!.small_bowel!.data)).toEqual([0, 1]);
    expect(dataset.masks.get('scanA_slice_0002')).toEqual({});
  });

  it('colour-mask pairs: fixture slice matches its COCO masks', async () => {
    const dataset = await openColourMaskPairs(path.join(SAMPLE, 'images'), path.join(SAMPLE, 'masks-colour'));
    const coco = await openCocoDataset(path.join(SAMPLE, 'annotations.coco.json'));
    const id = 'case101_day20_slice_0078';
    for (const organ of ['large_bowel', 'stomach'] as const) {
      expect(dice(dataset.masks.get(id)![organ]!, coco.masks.get(id)![organ]!)).toBeGreaterThan(0.9);
    }
  });

  it('colour-mask pairs: an image without a mask is a warning, a missing folder an InputError', async () => {
    mkdirSync(path.join(tmp, 'noMasks'), { recursive: true });
    const dataset = await openColourMaskPairs(path.join(SAMPLE, 'images'), path.join(tmp, 'noMasks'));
    expect(dataset.warnings?.[0]?.problem).toMatch(/no mask case101_day20_slice_0078\.png/);
    await expect(openColourMaskPairs(path.join(tmp, 'nope'), SAMPLE)).rejects.toThrow(
      /nope: folder not found/,
    );
  });

  it('masks: false (segmenting) neither decodes annotations nor reads colour masks, so bad ones do not stop it', async () => {
    const dir = path.join(tmp, 'badMasks');
    mkdirSync(path.join(dir, 'masks-colour'), { recursive: true });
    // The fixture's JSON beside its images, one annotation's RLE cut short; a colour mask that is no PNG.
    const json = JSON.parse(readFileSync(path.join(SAMPLE, 'annotations.coco.json'), 'utf8')) as {
      images: { file_name: string }[];
      annotations: { segmentation: { counts: string } }[];
    };
    for (const image of json.images) image.file_name = path.join(SAMPLE, image.file_name);
    json.annotations[0]!.segmentation.counts = json.annotations[0]!.segmentation.counts.slice(0, 9);
    const file = path.join(dir, 'cut.coco.json');
    writeFileSync(file, JSON.stringify(json));
    writeFileSync(path.join(dir, 'masks-colour', 'case101_day20_slice_0078.png'), 'not a PNG');
    const images = path.join(SAMPLE, 'images');

    await expect(openCocoDataset(file)).rejects.toThrow(
      /cut\.coco\.json: annotations\[0\]\.segmentation: RLE runs/,
    );
    const coco = await openCocoDataset(file, { masks: false });
    expect([allScans(coco).length, coco.masks.size, coco.warnings]).toEqual([1, 0, undefined]);

    await expect(openColourMaskPairs(images, path.join(dir, 'masks-colour'))).rejects.toThrow(
      /slice_0078\.png: not a PNG file/,
    );
    const pairs = await openColourMaskPairs(images, path.join(dir, 'masks-colour'), { masks: false });
    expect([allScans(pairs).length, pairs.masks.size, pairs.warnings]).toEqual([1, 0, undefined]);
  });
});

describeWithSharedData('COCO: the real site sample', () => {
  it('16 slices of 6 patients in 10 case-days, masks with pycocotools areas, colour masks agree', async () => {
    const file = sharedPath('site-sample/annotations.coco.json');
    const dataset = await openCocoDataset(file);
    expect(dataset.patients.map((p) => p.id)).toEqual([
      'case11',
      'case101',
      'case107',
      'case110',
      'case113',
      'case114',
    ]);
    expect(allScans(dataset).length).toBe(10);
    expect(allScans(dataset).reduce((n, s) => n + s.slices.length, 0)).toBe(16);
    for (const [key, want] of areasInJson(file)) {
      const [id, organ] = key.split(' ') as [string, (typeof ORGANS)[number]];
      expect(area(dataset.masks.get(id)![organ])).toBe(want);
    }
    const pairs = await openColourMaskPairs(
      sharedPath('site-sample/images'),
      sharedPath('site-sample/masks-colour'),
    );
    expect(pairs.warnings).toBeUndefined();
    for (const [id, masks] of dataset.masks) {
      for (const organ of ORGANS) {
        const truth = masks[organ];
        if (truth && area(truth) > 200)
          expect(dice(pairs.masks.get(id)![organ]!, truth)).toBeGreaterThan(0.85);
      }
    }
  });
});
