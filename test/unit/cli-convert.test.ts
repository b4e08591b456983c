/**
 * `tractus convert` round trips on real masks, checked by the independent numpy reference
 * (test/reference/metrics_reference.py decodes every file itself) and against the real site-sample COCO file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../main/core/errors';
import { parseSlicePath } from '../../main/core/ids';
import { annotationToMask, parseCocoDataset, type CocoDataset } from '../../main/masks/coco';
import { encodePngGray8 } from '../../main/imaging/png';
import { convertFile } from '../../main/services/convert';
import { evaluateFiles } from '../../main/services/evaluate';
import { pythonWith } from '../helpers/python';
import { FIXTURES, REPO_ROOT, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const REFERENCE = path.join(REPO_ROOT, 'test/reference/metrics_reference.py');
const PYTHON = pythonWith(['numpy', 'scipy']);
const hasPython = PYTHON !== null;
const itWithPython = hasPython ? it : it.skip;
const FIXTURE_CSV = path.join(FIXTURES, 'metrics/eval_subset_2scans.csv');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tractus-convert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const out = (name: string): string => path.join(tmp, name);

/** {slice id: {organ: [area, sha1]}} decoded by the reference. */
function referenceMasks(file: string, sizes?: string): unknown {
  const args = [REFERENCE, 'masks', file, ...(sizes ? ['--sizes', sizes] : [])];
  const run = spawnSync(PYTHON ?? 'python3', args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

const readCoco = (file: string): CocoDataset =>
  parseCocoDataset(JSON.parse(readFileSync(file, 'utf8')), file);

describe('convert: wide CSV (real UW-Madison rows) → COCO → Kaggle', () => {
  itWithPython(
    'keeps every mask, and writes the same RLE, area and bbox as the reference encoder',
    async () => {
      const summary = await convertFile({ input: FIXTURE_CSV, to: 'coco', out: out('fixture.coco.json') });
      expect(summary).toMatchObject({ slices: 118, to: 'coco' });
      const truth = referenceMasks(FIXTURE_CSV);
      expect(referenceMasks(out('fixture.coco.json'))).toEqual(truth);

      // The reference's own COCO writer (perturb writes gt.coco.json in the same row/organ order).
      const refDir = path.join(tmp, 'ref');
      spawnSync(PYTHON ?? 'python3', [REFERENCE, 'perturb', '--gt', FIXTURE_CSV, '--out', refDir], {
        encoding: 'utf8',
      });
      const reference = JSON.parse(readFileSync(path.join(refDir, 'gt.coco.json'), 'utf8'));
      const ours = JSON.parse(readFileSync(out('fixture.coco.json'), 'utf8'));
      expect(ours.annotations).toEqual(reference.annotations);
      // File names come from the CSV's path column, cut to the dataset-relative part.
      expect(ours.images[0].file_name).toMatch(
        /^train\/case\d+\/case\d+_day\d+\/scans\/slice_\d{4}_\d+_\d+_/,
      );

      await convertFile({ input: out('fixture.coco.json'), to: 'kaggle', out: out('fixture.train.csv') });
      await convertFile({ input: out('fixture.coco.json'), to: 'kaggle-wide', out: out('fixture.wide.csv') });
      expect(referenceMasks(out('fixture.train.csv'), FIXTURE_CSV)).toEqual(truth);
      expect(referenceMasks(out('fixture.wide.csv'))).toEqual(truth);
      const lines = readFileSync(out('fixture.train.csv'), 'utf8').trim().split('\n');
      expect(lines[0]).toBe('id,class,segmentation');
      expect(lines).toHaveLength(1 + 118 * 3); // every slice × organ, empty RLE where absent
    },
  );

  itWithPython(
    'reads a Kaggle layout folder (train.csv + slice PNGs), also as evaluation ground truth',
    async () => {
      const root = path.join(tmp, 'kaggle');
      const wide = readFileSync(FIXTURE_CSV, 'utf8').trim().split('\n').slice(1);
      const train = ['id,class,segmentation'];
      for (const line of wide) {
        const [id, lb, sb, st] = line.split(',');
        const [, c, d, n] = /^case(\d+)_day(\d+)_slice_(\d+)$/.exec(id!)!;
        const size = line.includes(',360,310,') ? '360_310' : '266_266';
        const dir = path.join(root, 'train', `case${c}`, `case${c}_day${d}`, 'scans');
        mkdirSync(dir, { recursive: true });
        const png = path.join(dir, `slice_${n}_${size}_1.50_1.50.png`);
        const [w, h] = size.split('_').map(Number) as [number, number];
        writeFileSync(png, encodePngGray8({ width: w, height: h, data: new Uint8Array(w * h) }));
        train.push(`${id},large_bowel,${lb}`, `${id},small_bowel,${sb}`, `${id},stomach,${st}`);
      }
      writeFileSync(path.join(root, 'train.csv'), train.join('\n') + '\n');
      await convertFile({ input: root, to: 'coco', out: out('layout.coco.json') });
      expect(referenceMasks(out('layout.coco.json'))).toEqual(referenceMasks(FIXTURE_CSV));
      const coco = readCoco(out('layout.coco.json'));
      expect(coco.images).toHaveLength(118);
      expect(coco.images[0]!.file_name).toMatch(/^train\/case\d+\/case\d+_day\d+\/scans\/slice_\d{4}_/);
      expect(parseSlicePath(coco.images[0]!.file_name)?.sliceId).toBeDefined();

      // The same layout as evaluation ground truth (train.csv + --images) scores exactly like the wide CSV.
      const refDir = path.join(tmp, 'ref-layout');
      spawnSync(PYTHON ?? 'python3', [REFERENCE, 'perturb', '--gt', FIXTURE_CSV, '--out', refDir], {
        encoding: 'utf8',
      });
      const pred = path.join(refDir, 'pred.csv');
      const viaLayout = await evaluateFiles({ gt: path.join(root, 'train.csv'), images: root, pred });
      expect(viaLayout).toEqual(await evaluateFiles({ gt: FIXTURE_CSV, pred }));
    },
  );

  it('refuses what it cannot convert, with an InputError naming the problem', async () => {
    const noIds = out('no-ids.coco.json');
    writeFileSync(
      noIds,
      JSON.stringify({ images: [{ id: 1, file_name: 'scan.png', width: 2, height: 2 }], annotations: [] }),
    );
    const err = await convertFile({ input: noIds, to: 'kaggle', out: out('x.csv') }).catch((e) => e);
    expect(isInputError(err) && err.message).toMatch(/scan\.png: no UW-Madison slice id/);
    const missing = await convertFile({ input: out('nope.json'), to: 'coco', out: out('y.json') }).catch(
      (e) => e,
    );
    expect(isInputError(missing)).toBe(true);
    const bad = out('bad.csv');
    writeFileSync(bad, 'a,b\n1,2\n');
    const badCsv = await convertFile({ input: bad, to: 'coco', out: out('z.json') }).catch((e) => e);
    expect(isInputError(badCsv) && badCsv.message).toMatch(/not a mask CSV/);
  });
});

describeWithSharedData('convert: the real site sample', () => {
  const original = sharedPath('site-sample/annotations.coco.json');

  itWithPython('COCO → Kaggle (long and wide) → COCO keeps every pixel', async () => {
    const truth = referenceMasks(original);
    await convertFile({ input: original, to: 'kaggle-wide', out: out('site.wide.csv') });
    await convertFile({ input: original, to: 'kaggle', out: out('site.train.csv') });
    expect(referenceMasks(out('site.wide.csv'))).toEqual(truth);
    expect(referenceMasks(out('site.train.csv'), out('site.wide.csv'))).toEqual(truth);
    await convertFile({ input: out('site.wide.csv'), to: 'coco', out: out('site.coco.json') });
    expect(referenceMasks(out('site.coco.json'))).toEqual(truth);
  });

  it('COCO → polygons → masks: pixel-exact', async () => {
    await convertFile({ input: original, to: 'coco', out: out('site.poly.json'), polygons: true });
    const a = readCoco(original);
    const b = readCoco(out('site.poly.json'));
    expect(b.annotations).toHaveLength(a.annotations.length);
    b.annotations.forEach((ann, i) => {
      expect(Array.isArray(ann.segmentation)).toBe(true);
      const image = b.images.find((im) => im.id === ann.image_id)!;
      const orig = a.annotations[i]!;
      const origImage = a.images.find((im) => im.id === orig.image_id)!;
      expect(image.file_name).toBe(origImage.file_name);
      const same = Buffer.compare(
        annotationToMask(ann, image, 'poly').data,
        annotationToMask(orig, origImage, 'orig').data,
      );
      expect(same, origImage.file_name).toBe(0);
    });
  });

  it('colour-mask pairs → COCO agree with the site sample annotations (Dice per organ)', async () => {
    const summary = await convertFile({
      input: sharedPath('site-sample/images'),
      masks: sharedPath('site-sample/masks-colour'),
      to: 'coco',
      out: out('colour.coco.json'),
    });
    expect(summary.slices).toBe(16);
    const ours = readCoco(out('colour.coco.json'));
    const truth = readCoco(original);
    const byName = (d: CocoDataset) => new Map(d.images.map((im) => [im.file_name, im]));
    const truthImages = byName(truth);
    let inter = 0;
    let sum = 0;
    for (const ann of ours.annotations) {
      const image = ours.images.find((im) => im.id === ann.image_id)!;
      expect(image.file_name).toMatch(/^images\/case\d+_day\d+_slice_\d{4}\.png$/);
      const timage = truthImages.get(image.file_name)!;
      const t = truth.annotations.find((x) => x.image_id === timage.id && x.category_id === ann.category_id);
      const m = annotationToMask(ann, image, 'ours').data;
      const g = t ? annotationToMask(t, timage, 'truth').data : new Uint8Array(m.length);
      for (let p = 0; p < m.length; p++) {
        inter += m[p]! & g[p]!;
        sum += m[p]! + g[p]!;
      }
    }
    expect((2 * inter) / sum).toBeGreaterThan(0.95);
  });
});
