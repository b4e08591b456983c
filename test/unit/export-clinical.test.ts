/**
 * Clinical exports checked by independent tools, on real data:
 *   dciodvfy (dicom3tools)   no error on the RTSTRUCT, the SEG and the MR series Tractus writes
 *   plastimatch convert      rasterises the RTSTRUCT onto the referenced series: Dice ≥ 0.98 per organ
 *   pydicom                  reads the SEG back: the same frames, on the same slices
 *   dcm2niix + nibabel       converts the written MR series; the NIfTI label map has the source's shape and affine
 * and Tractus's own import reads RTSTRUCT and SEG back to the exact masks. Sources: six slices of the real
 * UW-Madison case146_day25 (PNG, no geometry), a 4-slice oblique series built by pydicom from the real
 * dicom3tools MR image, and a sagittally stored NIfTI written by nibabel. A missing tool skips its checks
 * with a printed line.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ORGANS, type Organ } from '../../main/core/organs';
import { allScans, type BinaryMask, type Dataset, type Scan, type SliceMasks } from '../../main/core/types';
import { ds } from '../../main/export/dicom-write';
import { TG263_NAMES, parseRoiNames } from '../../main/export/organ-names';
import { organOfRoiName, readRtStruct } from '../../main/imaging/dicom-contours';
import { openDataset } from '../../main/imaging/open';
import { exportScans, parseExportTargets } from '../../main/services/export';
import { PYTHON, dciodvfyErrors, hasTool, reference, run } from '../helpers/export-tools';
import { describeWithSharedData, sharedPath } from '../helpers/shared-data';

// plastimatch, dcm2niix and Python start slowly on a loaded 2-core machine (72 s seen for one check).
vi.setConfig({ testTimeout: 300_000, hookTimeout: 300_000 });

const itWith = (ok: boolean) => (ok ? it : it.skip);
const DCIODVFY = hasTool('dciodvfy');
const PLASTIMATCH = hasTool('plastimatch');
const DCM2NIIX = hasTool('dcm2niix');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tractus-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BIT: Record<Organ, number> = { large_bowel: 1, small_bowel: 2, stomach: 4 };

/** The masks as one uint8 volume (slice, row, column) of organ bits, for the Python Dice. */
function writeBitVolume(file: string, scan: Scan, masks: Map<string, SliceMasks>): void {
  const plane = scan.width * scan.height;
  const volume = new Uint8Array(plane * scan.slices.length);
  scan.slices.forEach((slice, s) => {
    for (const organ of ORGANS) {
      const m = masks.get(slice.id)?.[organ];
      if (m) for (let p = 0; p < plane; p++) if (m.data[p]) volume[s * plane + p]! |= BIT[organ];
    }
  });
  writeFileSync(file, volume);
}

/** Run plastimatch on an RTSTRUCT + its image folder and return per-ROI Dice vs Tractus's masks. */
function plastimatchDice(
  rtstruct: string,
  images: string,
  scan: Scan,
  masks: Map<string, SliceMasks>,
): Record<string, { dice: number | null; truth: number; plastimatch: number }> {
  const out = path.join(tmp, `pm-${path.basename(rtstruct)}`);
  run('plastimatch', [
    'convert',
    '--input',
    rtstruct,
    '--referenced-ct',
    images,
    '--output-prefix',
    out,
    '--prefix-format',
    'nii.gz',
  ]);
  const labels = `${out}.u8`;
  writeBitVolume(labels, scan, masks);
  const rois = ORGANS.map((o) => `${TG263_NAMES[o]}=${BIT[o]}`);
  return reference(
    'dice',
    out,
    labels,
    String(scan.slices.length),
    String(scan.height),
    String(scan.width),
    ...rois,
  );
}

function present(masks: Map<string, SliceMasks>, organ: Organ): boolean {
  return [...masks.values()].some((m) => m[organ]?.data.some((v) => v !== 0));
}

function sha1(mask: BinaryMask): string {
  return createHash('sha1').update(mask.data).digest('hex');
}

/** The frames the SEG must hold: per organ in label order, every slice where it is present. */
function expectedFrames(scan: Scan, masks: Map<string, SliceMasks>) {
  return ORGANS.flatMap((organ) =>
    scan.slices.flatMap((slice, i) => {
      const m = masks.get(slice.id)?.[organ];
      return m && m.data.some((v) => v !== 0)
        ? [{ label: TG263_NAMES[organ], instance: i + 1, sha1: sha1(m) }]
        : [];
    }),
  );
}

/** Masks equal slice by slice, organ by organ (an absent mask equals an empty one). */
function expectSameMasks(a: Map<string, SliceMasks>, aScan: Scan, b: Map<string, SliceMasks>, bScan: Scan) {
  expect(bScan.slices.length).toBe(aScan.slices.length);
  aScan.slices.forEach((slice, i) => {
    for (const organ of ORGANS) {
      const x = a.get(slice.id)?.[organ]?.data;
      const y = b.get(bScan.slices[i]!.id)?.[organ]?.data;
      const count = (d?: Uint8Array) => (d ? d.reduce((n, v) => n + (v ? 1 : 0), 0) : 0);
      let differ = 0;
      for (let p = 0; p < aScan.width * aScan.height; p++) if ((x?.[p] ?? 0) !== (y?.[p] ?? 0)) differ++;
      expect({ slice: i, organ, differ }).toEqual({ slice: i, organ, differ: 0 });
      expect(count(y)).toBe(count(x));
    }
  });
}

/** A disk, a ring (disk with a hole) and a square on a w×h slice, moved a little per slice. */
function syntheticMasks(scan: Scan): Map<string, SliceMasks> {
  const masks = new Map<string, SliceMasks>();
  const { width: w, height: h } = scan;
  scan.slices.forEach((slice, s) => {
    const make = (inside: (x: number, y: number) => boolean): BinaryMask => {
      const data = new Uint8Array(w * h);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = inside(x, y) ? 1 : 0;
      return { width: w, height: h, data };
    };
    const cx = w * 0.55 + s;
    const cy = h * 0.45;
    const r = Math.min(w, h) * 0.2;
    const sliceMasks: SliceMasks = {
      // a ring: the hole must survive every tool
      stomach: make((x, y) => {
        const d = Math.hypot(x - cx, y - cy);
        return d <= r && d >= r * 0.45;
      }),
      large_bowel: make((x, y) => x >= w * 0.1 && x < w * 0.25 && y >= h * 0.6 && y < h * 0.8 - s),
    };
    if (s !== 1) sliceMasks.small_bowel = make((x, y) => Math.hypot(x - w * 0.3, y - h * 0.3) <= r * 0.4);
    masks.set(slice.id, sliceMasks);
  });
  return masks;
}

describe('export helpers', () => {
  it('DS values fit DICOM’s 16 characters', () => {
    for (const v of [-542.51349294978, 0.99802672842398, -0.0627905195976, 1e-9, 123456789.123456, -0])
      expect(ds(v).length).toBeLessThanOrEqual(16);
    expect(ds(-0.0000001)).toBe('0');
    expect(Number(ds(-542.51349294978))).toBeCloseTo(-542.51349294978, 6);
  });

  it('ROI names: TG-263 by default, a clinic’s map, one clear error otherwise', () => {
    expect(parseRoiNames(undefined)).toEqual({
      large_bowel: 'Bowel_Large',
      small_bowel: 'Bowel_Small',
      stomach: 'Stomach',
    });
    expect(parseRoiNames('large_bowel=Colon').large_bowel).toBe('Colon');
    expect(() => parseRoiNames('liver=Liver')).toThrow(/--roi-names: "liver=Liver" is not organ=name/);
    expect(() => parseExportTargets('rtstruct,dicom', '--to')).toThrow(/--to: "dicom" is not one of/);
    expect(organOfRoiName('Bowel_Small')).toBe('small_bowel');
    expect(organOfRoiName('Colon')).toBe('large_bowel');
    expect(organOfRoiName('BODY')).toBeUndefined();
  });
});

describeWithSharedData('RTSTRUCT read from a real planning file (pydicom’s rtstruct.dcm)', () => {
  it.skipIf(!PYTHON)('has the ROIs, contours and points pydicom reads', () => {
    const file = sharedPath('dicom/pydicom/rtstruct.dcm');
    const rt = readRtStruct(readFileSync(file), file);
    const expected = reference<Array<{ name: string; contours: number; points: number }>>('rtstruct', file);
    expect(
      rt.rois.map((r) => ({
        name: r.name,
        contours: r.contours.length,
        points: r.contours.reduce((n, c) => n + c.points.length / 3, 0),
      })),
    ).toEqual(expected);
    expect(rt.frameOfReferenceUid).toBeTruthy();
  });
});

describeWithSharedData('export of a PNG source (UW-Madison case146_day25, slices 30–35)', () => {
  let dataset: Dataset;
  let scan: Scan;
  const out = path.join(tmp, 'png');
  const stem = 'case146_day25';

  beforeAll(async () => {
    const src = sharedPath('uwmgi-scans');
    const root = path.join(tmp, 'uw');
    const scans = path.join(root, 'train/case146/case146_day25/scans');
    mkdirSync(scans, { recursive: true });
    const wanted = [30, 31, 32, 33, 34, 35].map((n) => `slice_${String(n).padStart(4, '0')}_`);
    for (const name of readdirSync(path.join(src, 'train/case146/case146_day25/scans'))) {
      if (wanted.some((w) => name.startsWith(w)))
        copyFileSync(path.join(src, 'train/case146/case146_day25/scans', name), path.join(scans, name));
    }
    const csv = readFileSync(path.join(src, 'train.csv'), 'utf8').split('\n');
    const rows = csv.filter((line) => /^case146_day25_slice_003[0-5],/.test(line));
    writeFileSync(path.join(root, 'train.csv'), [csv[0], ...rows].join('\n') + '\n');
    dataset = await openDataset(root);
    scan = allScans(dataset)[0]!;
    await exportScans({
      dataset,
      masks: dataset.masks,
      targets: ['rtstruct', 'dicom-seg', 'nifti', 'nnunet'],
      out,
      algorithm: 'MANUAL',
    });
  });

  it('has real organs to export', () => {
    expect(scan.slices).toHaveLength(6);
    expect(present(dataset.masks, 'stomach') && present(dataset.masks, 'large_bowel')).toBe(true);
  });

  itWith(DCIODVFY)('dciodvfy: no error in the RTSTRUCT, the SEG or the MR series', () => {
    const mr = readdirSync(path.join(out, `${stem}.mr`)).map((n) => path.join(out, `${stem}.mr`, n));
    expect(mr).toHaveLength(6);
    for (const file of [
      path.join(out, `${stem}.rtstruct.dcm`),
      path.join(out, `${stem}.seg.dcm`),
      mr[0]!,
      mr[5]!,
    ]) {
      expect({ file: path.basename(file), errors: dciodvfyErrors(file) }).toEqual({
        file: path.basename(file),
        errors: [],
      });
    }
  });

  itWith(PLASTIMATCH && !!PYTHON)(
    'plastimatch rasterises the RTSTRUCT onto the MR series: Dice ≥ 0.98 per organ',
    () => {
      const dice = plastimatchDice(
        path.join(out, `${stem}.rtstruct.dcm`),
        path.join(out, `${stem}.mr`),
        scan,
        dataset.masks,
      );
      for (const organ of ORGANS) {
        const d = dice[TG263_NAMES[organ]]!;
        if (present(dataset.masks, organ)) expect(d.dice, organ).toBeGreaterThanOrEqual(0.98);
        else expect(d.truth).toBe(0);
      }
    },
  );

  it.skipIf(!PYTHON)('pydicom reads the SEG back with the same frames on the same slices', () => {
    const seg = reference<{
      modality: string;
      type: string;
      frames: Array<{ label: string; instance: number; sha1: string }>;
    }>('seg', path.join(out, `${stem}.seg.dcm`), path.join(out, `${stem}.mr`));
    expect([seg.modality, seg.type]).toEqual(['SEG', 'BINARY']);
    expect(seg.frames.map(({ label, instance, sha1 }) => ({ label, instance, sha1 }))).toEqual(
      expectedFrames(scan, dataset.masks),
    );
  });

  itWith(DCM2NIIX && !!PYTHON)(
    'dcm2niix converts the MR series; the NIfTI label map lies on the same grid',
    () => {
      run('dcm2niix', ['-z', 'y', '-o', out, '-f', 'mr-dcm2niix', path.join(out, `${stem}.mr`)]);
      const g = reference<
        Record<'a' | 'b', { canonicalShape: number[]; canonicalAffine: number[][]; labels: number[] }>
      >('nifti', path.join(out, 'mr-dcm2niix.nii.gz'), path.join(out, `${stem}.seg.nii.gz`));
      expect(g.b.canonicalShape).toEqual(g.a.canonicalShape);
      expect(g.b.canonicalAffine).toEqual(g.a.canonicalAffine);
      expect(g.b.labels).toEqual([0, 1, 3]); // large bowel and stomach on these slices
    },
  );

  it.skipIf(!PYTHON)('nnU-Net v2 dataset: dataset.json, an image and its labels on one grid', () => {
    const json = JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8'));
    expect(json).toMatchObject({
      channel_names: { '0': 'MRI' },
      labels: { background: 0, large_bowel: 1, small_bowel: 2, stomach: 3 },
      numTraining: 1,
      file_ending: '.nii.gz',
    });
    const g = reference<Record<'a' | 'b', { shape: number[]; affine: number[][] }>>(
      'nifti',
      path.join(out, `imagesTr/${stem}_0000.nii.gz`),
      path.join(out, `labelsTr/${stem}.nii.gz`),
    );
    expect(g.a.shape).toEqual([276, 276, 6]);
    expect(g.b).toMatchObject({ shape: g.a.shape, affine: g.a.affine });
  });

  it('Tractus reads its own RTSTRUCT and its own SEG back to the same masks', async () => {
    for (const kind of ['rtstruct', 'seg']) {
      const folder = path.join(tmp, `png-back-${kind}`);
      cpSync(path.join(out, `${stem}.mr`), folder, { recursive: true });
      copyFileSync(path.join(out, `${stem}.${kind}.dcm`), path.join(folder, `${kind}.dcm`));
      const back = await openDataset(folder);
      expect(back.warnings ?? []).toEqual([]);
      expectSameMasks(dataset.masks, scan, back.masks, allScans(back)[0]!);
    }
  });
});

describeWithSharedData('export of a DICOM source (oblique series from the real dicom3tools MR image)', () => {
  let dataset: Dataset;
  let scan: Scan;
  let masks: Map<string, SliceMasks>;
  const series = path.join(tmp, 'dicom-series');
  const out = path.join(tmp, 'dicom-out');

  beforeAll(async () => {
    if (!PYTHON) return;
    reference('make-series', sharedPath('dicom/dicom3tools/0051.dcm'), series, '4');
    dataset = await openDataset(series);
    scan = allScans(dataset)[0]!;
    masks = syntheticMasks(scan);
    await exportScans({
      dataset,
      masks,
      targets: ['rtstruct', 'dicom-seg', 'nifti'],
      out,
      algorithm: 'AUTOMATIC',
    });
  });

  it.skipIf(!PYTHON)('references the source series: no MR series is written', () => {
    expect(readdirSync(out).sort()).toEqual([
      `${scan.id}.rtstruct.dcm`,
      `${scan.id}.seg.dcm`,
      `${scan.id}.seg.nii.gz`,
    ]);
  });

  itWith(DCIODVFY && !!PYTHON)('dciodvfy: no error in the RTSTRUCT or the SEG', () => {
    for (const kind of ['rtstruct', 'seg'])
      expect(dciodvfyErrors(path.join(out, `${scan.id}.${kind}.dcm`))).toEqual([]);
  });

  itWith(PLASTIMATCH && !!PYTHON)(
    'plastimatch: Dice ≥ 0.98 per organ on the oblique series, the ring keeps its hole',
    () => {
      const dice = plastimatchDice(path.join(out, `${scan.id}.rtstruct.dcm`), series, scan, masks);
      for (const organ of ORGANS) expect(dice[TG263_NAMES[organ]]!.dice, organ).toBeGreaterThanOrEqual(0.98);
    },
  );

  it.skipIf(!PYTHON)('pydicom reads the SEG: frames on the source slices, anatomic codes', () => {
    const seg = reference<{ frames: Array<{ label: string; code: string; instance: number; sha1: string }> }>(
      'seg-dicom',
      path.join(out, `${scan.id}.seg.dcm`),
      series,
    );
    expect(seg.frames.map(({ label, instance, sha1 }) => ({ label, instance, sha1 }))).toEqual(
      expectedFrames(scan, masks),
    );
    expect(new Set(seg.frames.map((f) => f.code))).toEqual(new Set(['14742008', '30315005', '69695003']));
  });

  itWith(DCM2NIIX && !!PYTHON)(
    'the NIfTI label map lies on the grid dcm2niix gives the source series',
    () => {
      run('dcm2niix', ['-z', 'y', '-o', out, '-f', 'src-dcm2niix', series]);
      const g = reference<Record<'a' | 'b', { canonicalShape: number[]; canonicalAffine: number[][] }>>(
        'nifti',
        path.join(out, 'src-dcm2niix.nii.gz'),
        path.join(out, `${scan.id}.seg.nii.gz`),
      );
      expect(g.b.canonicalShape).toEqual(g.a.canonicalShape);
      g.b.canonicalAffine.flat().forEach((v, i) => expect(v).toBeCloseTo(g.a.canonicalAffine.flat()[i]!, 2));
    },
  );

  it.skipIf(!PYTHON)('an RTSTRUCT or SEG in the series folder becomes its masks again', async () => {
    for (const kind of ['rtstruct', 'seg']) {
      const folder = path.join(tmp, `dicom-back-${kind}`);
      cpSync(series, folder, { recursive: true });
      copyFileSync(path.join(out, `${scan.id}.${kind}.dcm`), path.join(folder, `${kind}.dcm`));
      const back = await openDataset(folder);
      expect(back.warnings ?? []).toEqual([]);
      expectSameMasks(masks, scan, back.masks, allScans(back)[0]!);
    }
  });
});

describe('export of a NIfTI source (sagittally stored, written by nibabel)', () => {
  let dataset: Dataset;
  let scan: Scan;
  let masks: Map<string, SliceMasks>;
  const source = path.join(tmp, 'sagittal.nii.gz');
  const out = path.join(tmp, 'nifti-out');

  beforeAll(async () => {
    if (!PYTHON) return;
    reference('make-nifti', source);
    dataset = await openDataset(source);
    scan = allScans(dataset)[0]!;
    masks = syntheticMasks(scan);
    await exportScans({ dataset, masks, targets: ['rtstruct', 'nifti'], out, algorithm: 'MANUAL' });
  });

  it.skipIf(!PYTHON)('nibabel reads the label map with the source’s shape and affine', () => {
    const g = reference<Record<'a' | 'b', { shape: number[]; affine: number[][]; labels: number[] }>>(
      'nifti',
      source,
      path.join(out, `${scan.id}.seg.nii.gz`),
    );
    expect(g.b.shape).toEqual(g.a.shape);
    expect(g.b.affine).toEqual(g.a.affine);
    expect(g.b.labels).toEqual([0, 1, 2, 3]);
  });

  itWith(DCM2NIIX && !!PYTHON)(
    'the MR series written for it converts (dcm2niix) back onto the source grid',
    () => {
      run('dcm2niix', ['-z', 'y', '-o', out, '-f', 'back', path.join(out, `${scan.id}.mr`)]);
      const g = reference<Record<'a' | 'b', { canonicalShape: number[]; canonicalAffine: number[][] }>>(
        'nifti',
        source,
        path.join(out, 'back.nii.gz'),
      );
      expect(g.b.canonicalShape).toEqual(g.a.canonicalShape);
      g.b.canonicalAffine.flat().forEach((v, i) => expect(v).toBeCloseTo(g.a.canonicalAffine.flat()[i]!, 2));
    },
  );

  itWith(PLASTIMATCH && !!PYTHON)(
    'plastimatch: Dice ≥ 0.98 per organ on the MR series written for it',
    () => {
      const dice = plastimatchDice(
        path.join(out, `${scan.id}.rtstruct.dcm`),
        path.join(out, `${scan.id}.mr`),
        scan,
        masks,
      );
      for (const organ of ORGANS) expect(dice[TG263_NAMES[organ]]!.dice, organ).toBeGreaterThanOrEqual(0.98);
    },
  );
});
