import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../main/model/backend/select';
import { buildProgram } from '../../main/cli/program';
import { acquisitionConcerns } from '../../main/core/acquisition';
import { ORGANS } from '../../main/core/organs';
import { allScans } from '../../main/core/types';
import { openDataset } from '../../main/imaging/open';
import { writePng16 } from '../../main/imaging/png';
import { decodeCocoRle } from '../../main/masks/coco-rle';
import { parseCocoDataset, parseCocoResults } from '../../main/masks/coco';
import { parseSubmissionCsv } from '../../main/masks/kaggle-csv';
import { decodeKaggleRle } from '../../main/masks/kaggle-rle';
import { buildModel } from '../../main/model/arch';
import { newModelCard } from '../../main/model/card';
import { saveModel } from '../../main/model/model-io';
import { segmentInput, type SegmentSummary } from '../../main/services/segment';
import { describeWithSharedData, FIXTURES, sharedPath } from '../helpers/shared-data';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'tractus-segment-'));
const STOMACH_SCORE = 1 / (1 + Math.exp(-4));
/**
 * Per-slice uncertainty of that model, by hand from model/uncertainty's formula: per pixel the maps are
 * σ(−4), σ(0) = 0.5 and σ(4); only the stomach is above 0.5. Wrong-side mass σ(−4) + 0.5 + (1 − σ(4)),
 * over Σ p + #[p>0.5] + 1 % smoothing = 1.5 + 1 + 0.01 (per pixel, so the slice size cancels).
 */
const STOMACH_UNCERTAINTY = (0.5 + 2 * (1 - STOMACH_SCORE)) / 2.51;
let modelDir = '';

/**
 * A tiny model whose weights are all zero except the output bias, so its output is known without
 * running it: stomach probability sigmoid(4) ≈ 0.98 everywhere, the other organs below threshold.
 */
beforeAll(async () => {
  await initBackend('cpu');
  const spec = { name: 'unet' as const, filters: [4, 8], inChannels: 3, outChannels: 3 };
  const model = buildModel(spec, 32);
  model.setWeights(model.getWeights().map((w) => tf.zerosLike(w)));
  const head = model.getLayer('head');
  head.setWeights([head.getWeights()[0]!, tf.tensor1d([-4, 0, 4])]);
  modelDir = path.join(tmp(), 'model');
  const card = newModelCard({
    name: 'constant-stomach',
    description: 'test model: stomach everywhere',
    architecture: spec,
    inputSize: { height: 32, width: 32 },
    backend: 'cpu',
    versions: {},
  });
  await saveModel(model, card, modelDir);
  model.dispose();
});

const ramp = (w: number, h: number, k: number) =>
  Uint16Array.from({ length: w * h }, (_, p) => ((p % w) * 40 + Math.floor(p / w) * 7 + k * 50) % 4000);

async function uwDataset(
  cases: Array<{ scan: string; slices: number; w: number; h: number }>,
): Promise<string> {
  const root = tmp();
  for (const { scan, slices, w, h } of cases) {
    const dir = path.join(root, 'train', scan.split('_')[0]!, scan, 'scans');
    mkdirSync(dir, { recursive: true });
    for (let k = 1; k <= slices; k++) {
      const name = `slice_${String(k).padStart(4, '0')}_${w}_${h}_1.50_1.50.png`;
      await writePng16(path.join(dir, name), { width: w, height: h, data: ramp(w, h, k) });
    }
  }
  return root;
}

function outputs(out: string) {
  const predictions = parseCocoResults(
    JSON.parse(readFileSync(path.join(out, 'predictions.json'), 'utf8')),
    'p',
  );
  const csvFile = path.join(out, 'submission.csv');
  const csv = existsSync(csvFile) ? parseSubmissionCsv(readFileSync(csvFile, 'utf8'), csvFile) : undefined;
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as SegmentSummary;
  const imagesFile = path.join(out, 'images.coco.json');
  const images = existsSync(imagesFile)
    ? parseCocoDataset(JSON.parse(readFileSync(imagesFile, 'utf8')), imagesFile)
    : undefined;
  return { predictions, csv, summary, images };
}

/** Every slice has exactly one prediction, the stomach, covering the whole native-size slice. */
function expectStomachEverywhere(out: ReturnType<typeof outputs>, sizes: Map<number, [number, number]>) {
  expect(out.predictions.map((p) => p.image_id).sort((a, b) => a - b)).toEqual(
    [...sizes.keys()].sort((a, b) => a - b),
  );
  for (const p of out.predictions) {
    expect(p.category_id).toBe(3);
    expect(p.score).toBeCloseTo(STOMACH_SCORE, 5);
    const [w, h] = sizes.get(p.image_id)!;
    const mask = decodeCocoRle(p.segmentation, 'test');
    expect([mask.width, mask.height]).toEqual([w, h]);
    expect(mask.data.every((v) => v === 1)).toBe(true);
  }
}

describe('tractus segment: UW-Madison layout', () => {
  it('writes COCO results, the image list, the Kaggle CSV and the summary; resumes; --force recomputes', async () => {
    const root = await uwDataset([
      { scan: 'case7_day3', slices: 4, w: 24, h: 20 },
      { scan: 'case8_day1', slices: 2, w: 30, h: 30 },
    ]);
    const out = path.join(tmp(), 'out');
    const summary = await segmentInput({ input: root, out, modelDir, backend: 'cpu' });
    expect(summary.scans.map((s) => [s.id, s.status, s.slices])).toEqual([
      ['case7_day3', 'ok', 4],
      ['case8_day1', 'ok', 2],
    ]);
    const o = outputs(out);
    expect(o.images!.images.map((i) => [i.id, i.file_name])).toEqual([
      [1, 'train/case7/case7_day3/scans/slice_0001_24_20_1.50_1.50.png'],
      [2, 'train/case7/case7_day3/scans/slice_0002_24_20_1.50_1.50.png'],
      [3, 'train/case7/case7_day3/scans/slice_0003_24_20_1.50_1.50.png'],
      [4, 'train/case7/case7_day3/scans/slice_0004_24_20_1.50_1.50.png'],
      [5, 'train/case8/case8_day1/scans/slice_0001_30_30_1.50_1.50.png'],
      [6, 'train/case8/case8_day1/scans/slice_0002_30_30_1.50_1.50.png'],
    ]);
    expectStomachEverywhere(o, new Map(o.images!.images.map((i) => [i.id, [i.width, i.height]])));
    // every COCO result carries its slice's uncertainty beside the unchanged score
    const raw = JSON.parse(readFileSync(path.join(out, 'predictions.json'), 'utf8')) as Array<{
      uncertainty: number;
    }>;
    expect(raw).toHaveLength(6);
    for (const r of raw) expect(r.uncertainty).toBeCloseTo(STOMACH_UNCERTAINTY, 4);
    // summary.json: uncertainty by slice id; review-first ties (equal uncertainty) keep slice order
    const first = o.summary.scans[0]!;
    const ids = [1, 2, 3, 4].map((k) => `case7_day3_slice_000${k}`);
    expect(Object.keys(first.uncertainty!)).toEqual(ids);
    for (const u of Object.values(first.uncertainty!)) expect(u).toBeCloseTo(STOMACH_UNCERTAINTY, 4);
    expect(first.reviewFirst).toEqual(ids);
    expect(o.summary.scans[1]!.reviewFirst).toEqual(['case8_day1_slice_0001', 'case8_day1_slice_0002']);
    // one CSV row per slice and organ; the stomach RLE covers the slice
    expect(o.csv!).toHaveLength(6 * 3);
    expect(o.csv!.slice(0, 3).map((r) => r.organ)).toEqual([...ORGANS]);
    const stomach = o.csv!.find((r) => r.id === 'case7_day3_slice_0002' && r.organ === 'stomach')!;
    expect(decodeKaggleRle(stomach.rle, 24, 20, 'csv').every((v) => v === 1)).toBe(true);
    expect(o.csv!.filter((r) => r.organ !== 'stomach').every((r) => r.rle === '')).toBe(true);

    const again = await segmentInput({ input: root, out, modelDir, backend: 'cpu' });
    expect(again.scans.every((s) => s.resumed)).toBe(true);
    expect(outputs(out).predictions).toEqual(o.predictions);
    expect(again.scans.map((s) => s.reviewFirst)).toEqual(summary.scans.map((s) => s.reviewFirst));
    // a part file from before per-slice uncertainty is recomputed, not resumed without it
    const partDir = path.join(out, '.parts');
    const partName = readdirSync(partDir).find((f) => f.includes('case8_day1'))!;
    const part = JSON.parse(readFileSync(path.join(partDir, partName), 'utf8')) as {
      slices: Array<{ uncertainty?: number }>;
    };
    for (const sl of part.slices) delete sl.uncertainty;
    writeFileSync(path.join(partDir, partName), JSON.stringify(part));
    const older = await segmentInput({ input: root, out, modelDir, backend: 'cpu' });
    expect(older.scans.map((s) => s.resumed ?? false)).toEqual([true, false]);
    expect(older.scans[1]!.uncertainty).toBeDefined();
    const forced = await segmentInput({ input: root, out, modelDir, backend: 'cpu', force: true });
    expect(forced.scans.some((s) => s.resumed)).toBe(false);
  });

  it('a bad file fails only its scan; the CLI exits 1 only when every scan failed', async () => {
    const root = await uwDataset([
      { scan: 'case7_day3', slices: 3, w: 24, h: 20 },
      { scan: 'case9_day1', slices: 2, w: 24, h: 20 },
    ]);
    const bad = path.join(root, 'train/case9/case9_day1/scans/slice_0002_24_20_1.50_1.50.png');
    truncateSync(bad, 60); // header intact, pixel data cut off
    const out = path.join(tmp(), 'out');
    const summary = await segmentInput({ input: root, out, modelDir, backend: 'cpu' });
    expect(summary.scans.map((s) => s.status)).toEqual(['ok', 'failed']);
    expect(summary.scans[1]!.reason).toContain('slice_0002_24_20_1.50_1.50.png');
    const o = outputs(out);
    expect(o.predictions).toHaveLength(3); // only the good scan's slices
    expect(o.summary.failed).toBe(1);

    const onlyBad = path.join(root, 'train/case9/case9_day1');
    const cliOut = path.join(tmp(), 'cli');
    const previous = process.exitCode;
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await buildProgram().parseAsync([
        'node',
        'tractus',
        'segment',
        onlyBad,
        '--out',
        cliOut,
        '--model',
        modelDir,
        '--backend',
        'cpu',
        '--json',
      ]);
      expect(process.exitCode).toBe(1);
    } finally {
      process.stdout.write = write;
      process.exitCode = previous;
    }
  });
});

describe('tractus segment: other inputs', () => {
  it('a plain PNG folder is one scan named after the folder', async () => {
    const dir = path.join(tmp(), 'patientA');
    mkdirSync(dir);
    for (const k of [1, 2, 10])
      await writePng16(path.join(dir, `img${k}.png`), { width: 20, height: 12, data: ramp(20, 12, k) });
    const out = path.join(tmp(), 'out');
    const summary = await segmentInput({ input: dir, out, modelDir, backend: 'cpu' });
    expect(summary.scans.map((s) => [s.id, s.status, s.slices])).toEqual([['patientA', 'ok', 3]]);
    expect(summary.scans[0]!.volumesMl).toBeNull(); // PNG has no spacing
    expect(summary.files).toEqual(['predictions.json', 'images.coco.json', 'summary.json']); // no Kaggle ids
    const o = outputs(out);
    expect(o.images!.images.map((i) => i.file_name)).toEqual(['img1.png', 'img2.png', 'img10.png']);
    expectStomachEverywhere(o, new Map(o.images!.images.map((i) => [i.id, [20, 12]])));
  });

  it('a COCO dataset keeps its image ids and gets no new image list', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'images'));
    const images = [
      { id: 17, file_name: 'images/case5_day2_slice_0040.png', width: 16, height: 24 },
      { id: 3, file_name: 'images/case5_day2_slice_0041.png', width: 16, height: 24 },
    ];
    for (const [k, im] of images.entries())
      await writePng16(path.join(dir, im.file_name), { width: 16, height: 24, data: ramp(16, 24, k) });
    const cocoFile = path.join(dir, 'data.coco.json');
    writeFileSync(cocoFile, JSON.stringify({ images, annotations: [] }));
    const out = path.join(tmp(), 'out');
    await segmentInput({ input: cocoFile, out, modelDir, backend: 'cpu' });
    const o = outputs(out);
    expect(o.images).toBeUndefined();
    expectStomachEverywhere(
      o,
      new Map([
        [17, [16, 24]],
        [3, [16, 24]],
      ]),
    );
    expect(o.csv!.map((r) => r.id)).toContain('case5_day2_slice_0040');
  });

  it('a DICOM folder: one scan per series, volumes from the pixel spacing and slice thickness', async () => {
    const dir = tmp();
    copyFileSync(path.join(FIXTURES, 'imaging/dicom/MR_small.dcm'), path.join(dir, 'mr.dcm'));
    copyFileSync(path.join(FIXTURES, 'imaging/dicom/CT_small.dcm'), path.join(dir, 'ct.dcm'));
    const out = path.join(tmp(), 'out');
    const summary = await segmentInput({ input: dir, out, modelDir, backend: 'cpu' });
    expect(summary.scans).toHaveLength(2);
    for (const s of summary.scans) {
      expect(s.status).toBe('ok');
      // the whole slice is stomach: volume = slices × W × H × spacing² × thickness / 1000
      const [pr, pc] = s.pixelSpacing!;
      expect(s.volumesMl!.stomach).toBeCloseTo(
        (s.slices * s.width * s.height * pr * pc * s.sliceThickness!) / 1000,
        6,
      );
      expect(s.volumesMl!.large_bowel).toBe(0);
    }
  });

  it('a NIfTI volume (NIfTI-1 written byte by byte from the spec)', async () => {
    const [nx, ny, nz] = [20, 16, 5];
    const bytes = new Uint8Array(352 + nx * ny * nz * 2);
    const v = new DataView(bytes.buffer);
    v.setInt32(0, 348, true); // sizeof_hdr
    [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => v.setInt16(40 + 2 * i, d, true)); // dim
    v.setInt16(70, 4, true); // datatype INT16
    v.setInt16(72, 16, true); // bitpix
    [1, 1.5, 1.25, 3, 1, 1, 1, 1].forEach((d, i) => v.setFloat32(76 + 4 * i, d, true)); // pixdim
    v.setFloat32(108, 352, true); // vox_offset
    v.setInt16(254, 1, true); // sform_code: scanner
    [
      [1.5, 0, 0, 0],
      [0, 1.25, 0, 0],
      [0, 0, 3, 0],
    ].forEach((row, r) => row.forEach((d, i) => v.setFloat32(280 + 16 * r + 4 * i, d, true)));
    bytes.set([0x6e, 0x2b, 0x31, 0], 344); // magic "n+1"
    for (let i = 0; i < nx * ny * nz; i++) v.setInt16(352 + 2 * i, i % 97, true);
    const file = path.join(tmp(), 'case4_day1.nii');
    writeFileSync(file, bytes);
    const out = path.join(tmp(), 'out');
    const summary = await segmentInput({ input: file, out, modelDir, backend: 'cpu' });
    const s = summary.scans[0]!;
    expect([s.status, s.slices]).toEqual(['ok', nz]);
    expect(s.sliceThickness).toBeCloseTo(3, 6);
    // the whole volume is stomach: 20 × 16 × 5 voxels of 1.5 × 1.25 × 3 mm
    expect(s.volumesMl!.stomach).toBeCloseTo((nx * ny * nz * 1.5 * 1.25 * 3) / 1000, 6);
  });
});

describeWithSharedData('tractus segment: the real site-sample COCO dataset', () => {
  it('segments the 16 listed images at 512², keeping their ids', async () => {
    const file = sharedPath('site-sample/annotations.coco.json');
    const coco = parseCocoDataset(JSON.parse(readFileSync(file, 'utf8')), file);
    const out = path.join(tmp(), 'out');
    const summary = await segmentInput({ input: file, out, modelDir, backend: 'cpu' });
    expect(summary.failed).toBe(0);
    expectStomachEverywhere(outputs(out), new Map(coco.images.map((i) => [i.id, [i.width, i.height]])));
  });
});

describe('input modality check: not the axial abdominal MR the model was made for', () => {
  it('a real CT slice (pydicom CT_small.dcm) is warned about and recorded in summary.json; MR is not', async () => {
    const dir = tmp();
    copyFileSync(path.join(FIXTURES, 'imaging/dicom/CT_small.dcm'), path.join(dir, 'ct.dcm'));
    copyFileSync(path.join(FIXTURES, 'imaging/dicom/MR_small.dcm'), path.join(dir, 'mr.dcm'));
    const out = path.join(tmp(), 'out');
    const logged: string[] = [];
    const summary = await segmentInput({
      input: dir,
      out,
      modelDir,
      backend: 'cpu',
      log: (m) => logged.push(m),
    });
    const written = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as SegmentSummary;
    const byModality = new Map(written.scans.map((s) => [s.acquisition.modality, s]));
    expect(byModality.get('CT')!.acquisition).toMatchObject({
      modality: 'CT',
      plane: 'axial',
      concerns: ['modality CT, not MR'],
    });
    expect(byModality.get('MR')!.acquisition.concerns).toEqual([]);
    expect(summary.warnings.map((w) => w.problem)).toEqual([
      expect.stringMatching(/^not the axial abdominal MR the model was made for \(modality CT, not MR\)/),
    ]);
    // said once on the terminal, before the run
    expect(logged.filter((l) => l.includes('modality CT'))).toHaveLength(1);
  });
});

describeWithSharedData('input modality check on real shared DICOM', () => {
  it('the dicom3tools brain perfusion image (0051.dcm: MR BRAIN, ASL MOSAIC) gets every concern', async () => {
    const dataset = await openDataset(sharedPath('dicom/dicom3tools/0051.dcm'));
    const [scan] = allScans(dataset);
    expect(acquisitionConcerns(scan!.acquisition)).toEqual([
      'body part BRAIN, not abdomen',
      'image type ASL/MOSAIC, not an anatomical image',
    ]);
    expect(dataset.warnings?.map((w) => w.where)).toContain(scan!.id);
  });
});

describe('tractus segment: a damaged file is reported once', () => {
  it('a truncated PNG gives one line on the terminal, not three', async () => {
    const root = await uwDataset([
      { scan: 'case7_day3', slices: 2, w: 24, h: 20 },
      { scan: 'case9_day1', slices: 2, w: 24, h: 20 },
    ]);
    truncateSync(path.join(root, 'train/case9/case9_day1/scans/slice_0002_24_20_1.50_1.50.png'), 60);
    const out: string[] = [];
    const capture = (c: string | Uint8Array) => {
      out.push(...String(c).split('\n'));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    const previous = process.exitCode;
    try {
      await buildProgram().parseAsync([
        ...['node', 'tractus', 'segment', root, '--out', path.join(tmp(), 'out')],
        ...['--model', modelDir, '--backend', 'cpu'],
      ]);
    } finally {
      for (const spy of spies) spy.mockRestore();
      process.exitCode = previous;
    }
    expect(out.filter((l) => l.includes('truncated PNG'))).toEqual([
      expect.stringMatching(/^case9_day1: FAILED: .*slice_0002_24_20_1\.50_1\.50\.png: truncated PNG/),
    ]);
    expect(out.filter((l) => l.startsWith('case9_day1'))).toEqual([
      expect.stringMatching(/^case9_day1: FAILED/),
      'case9_day1: failed (reason above)',
    ]);
  });
});
