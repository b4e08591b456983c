/**
 * Viewer habits of OHIF and 3D Slicer, the pure parts: window presets from the body's percentiles (Soft
 * tissue inside Auto), typed windows, the scale bar, orientation letters of the reformats, coronal and
 * sagittal reformats with the linked crosshair (checked against numpy on a real UW-Madison scan), the
 * quantised volume the viewer fetches, which job a panel shows, and plural forms in English and French.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ORGANS } from '../../main/core/organs';
import { allScans } from '../../main/core/types';
import { openDataset } from '../../main/imaging/open';
import { scanVolume } from '../../main/ipc/scan-volume';
import type { JobSummary } from '../../preload/api';
import { createTractusI18n } from '../../renderer/i18n';
import { jobProgress, latestJobFor } from '../../renderer/lib/job-display';
import {
  RADIOLOGICAL_AXIAL,
  axialLetters,
  reformatLetters,
  sliceDirection,
  stackDrawnReversed,
} from '../../renderer/lib/orientation-view';
import {
  crosshairOnView,
  decodeVolume,
  pointFromView,
  quantisedWindow,
  reformatMasks,
  reformatVolume,
  rowAspect,
  sliceOfRow,
  sliceStepMm,
  type Volume8,
} from '../../renderer/lib/reformat';
import { scaleBar } from '../../renderer/lib/scale-bar';
import { presetWindow, typedWindow, windowStats } from '../../renderer/lib/window-level';
import { describeWithSharedData, sharedPath } from '../helpers/shared-data';
import { pythonWith } from '../helpers/python';
import { inMemoryScan } from '../helpers/scans';

const edges = (wl: { level: number; width: number }) => [wl.level - wl.width / 2, wl.level + wl.width / 2];

describe('window presets in the scan’s own units', () => {
  // 60 % air (values 0–9) around a body of values 100…499 (uniform).
  const data = new Uint16Array(10_000);
  for (let i = 0; i < data.length; i++) data[i] = i < 6000 ? i % 10 : 100 + ((i - 6000) % 400);
  const stats = windowStats(data);

  it('Auto spans the body’s 1st–99.5th percentiles, not the air around it', () => {
    const [lo, hi] = edges(presetWindow('auto', stats));
    expect(lo).toBeGreaterThanOrEqual(100);
    expect(lo).toBeLessThan(110);
    expect(hi).toBeGreaterThan(490);
    expect(hi).toBeLessThanOrEqual(499);
  });

  it('Soft tissue lies inside Auto, High contrast inside Soft tissue; Full range is min…max', () => {
    const [a0, a1] = edges(presetWindow('auto', stats));
    const [s0, s1] = edges(presetWindow('soft', stats));
    const [c0, c1] = edges(presetWindow('contrast', stats));
    expect(s0).toBeGreaterThanOrEqual(a0!);
    expect(s1).toBeLessThanOrEqual(a1!);
    expect(s1! - s0!).toBeLessThan(a1! - a0!);
    expect(c0).toBeGreaterThanOrEqual(s0!);
    expect(c1).toBeLessThanOrEqual(s1!);
    expect(presetWindow('full', stats)).toEqual({ level: 249.5, width: 499 });
  });

  it('a typed window is taken as typed; a zero, negative or non-number width is refused', () => {
    expect(typedWindow(120, 300)).toEqual({ width: 120, level: 300 });
    expect(typedWindow(0, 300)).toBeNull();
    expect(typedWindow(-5, 300)).toBeNull();
    expect(typedWindow(Number.NaN, 300)).toBeNull();
    expect(typedWindow(50, Number.POSITIVE_INFINITY)).toBeNull();
  });

  it('the reformats use the same window in their quantised units', () => {
    const q = quantisedWindow({ level: 300, width: 200 }, { offset: 100, scale: 2 });
    expect(q).toEqual({ level: 100, width: 100 });
  });
});

describeWithSharedData('window presets on real MRI (UW-Madison, 16-bit)', () => {
  it('Soft tissue is never wider than Auto, and Auto starts above the air, on every real 16-bit slice', async () => {
    const dataset = await openDataset(sharedPath('uwmgi-scans/train/case33'));
    let n = 0;
    for (const scan of allScans(dataset)) {
      for (let i = 0; i < scan.slices.length; i++) {
        const image = await scan.readSlice(i);
        const stats = windowStats(image.data);
        const auto = presetWindow('auto', stats);
        const soft = presetWindow('soft', stats);
        expect(soft.width).toBeLessThan(auto.width);
        expect(edges(auto)[0]).toBeGreaterThan(stats.air);
        n++;
      }
    }
    expect(n).toBeGreaterThan(3);
  });
});

describe('scale bar', () => {
  it('picks the longest 1/2/5 × 10ⁿ length that fits and its length in screen pixels', () => {
    // 1.5 mm pixels at zoom 2: 0.75 mm per screen pixel; 100 px hold 75 mm → a 5 cm bar of 66.7 px.
    const bar = scaleBar(0.75, 100)!;
    expect(bar.mm).toBe(50);
    expect(bar.px).toBeCloseTo(66.667, 2);
    expect(bar.label).toBe('5 cm');
    expect(scaleBar(0.1, 100)).toMatchObject({ mm: 10, px: 100, label: '1 cm' });
    expect(scaleBar(0.02, 100)).toMatchObject({ mm: 2, label: '2 mm' });
  });
  it('has no bar without a pixel spacing', () => {
    expect(scaleBar(null, 100)).toBeNull();
    expect(scaleBar(0, 100)).toBeNull();
  });
});

describe('orientation letters of the axial slice and its reformats', () => {
  it('a scan without orientation is shown radiologically, marked as assumed', () => {
    expect(axialLetters({})).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P', assumed: true });
    const given = { left: 'L', right: 'R', top: 'A', bottom: 'P', assumed: false };
    expect(axialLetters({ orientation: given })).toEqual(given);
  });

  it('UW-Madison slices run head to feet; DICOM and NIfTI along right × down (feet to head)', () => {
    expect(sliceDirection(RADIOLOGICAL_AXIAL, 'uwmgi')).toBe('I');
    expect(sliceDirection(RADIOLOGICAL_AXIAL, 'dicom')).toBe('S');
    expect(sliceDirection(RADIOLOGICAL_AXIAL, 'nifti')).toBe('S');
    // Mirrored columns (patient left on the image's left): the normal flips.
    expect(sliceDirection({ left: 'L', right: 'R', top: 'A', bottom: 'P' }, 'dicom')).toBe('I');
    expect(sliceDirection(RADIOLOGICAL_AXIAL, 'png')).toBeNull();
    expect(sliceDirection(RADIOLOGICAL_AXIAL, undefined)).toBeNull();
  });

  it('reformats are head up: coronal R…L across, sagittal A…P across, S on top', () => {
    expect(reformatLetters('coronal', RADIOLOGICAL_AXIAL, 'I')).toEqual({
      left: 'R',
      right: 'L',
      top: 'S',
      bottom: 'I',
    });
    expect(reformatLetters('sagittal', RADIOLOGICAL_AXIAL, 'S')).toEqual({
      left: 'A',
      right: 'P',
      top: 'S',
      bottom: 'I',
    });
    expect(stackDrawnReversed('S')).toBe(true);
    expect(stackDrawnReversed('I')).toBe(false);
    // Unknown stacking: drawn in index order, no S/I letters claimed.
    expect(reformatLetters('coronal', RADIOLOGICAL_AXIAL, null)).toMatchObject({ top: '', bottom: '' });
  });
});

/** A 4×3×5 volume whose byte is 100·z + 10·y + x, quantised with offset 7 and scale 2. */
function testVolume(): Volume8 {
  const [w, h, d] = [4, 3, 5];
  const data = new Uint8Array(w * h * d);
  for (let z = 0; z < d; z++)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[z * w * h + y * w + x] = 40 * z + 10 * y + x;
  return { width: w, height: h, depth: d, data, offset: 7, scale: 2 };
}

describe('coronal and sagittal reformats', () => {
  const vol = testVolume();

  it('coronal through row y: one row per slice, columns x; reversed puts the last slice on top', () => {
    const cor = reformatVolume(vol, 4, 3, 'coronal', 2, false);
    expect(cor.length).toBe(4 * 5);
    expect([...cor.slice(0, 4)]).toEqual([20, 21, 22, 23]); // slice 0, row 2
    expect([...cor.slice(4 * 4, 4 * 5)]).toEqual([180, 181, 182, 183]); // slice 4
    const rev = reformatVolume(vol, 4, 3, 'coronal', 2, true);
    expect([...rev.slice(0, 4)]).toEqual([180, 181, 182, 183]);
  });

  it('sagittal through column x: one row per slice, columns y', () => {
    const sag = reformatVolume(vol, 4, 3, 'sagittal', 1, false);
    expect(sag.length).toBe(3 * 5);
    expect([...sag.slice(3, 6)]).toEqual([41, 51, 61]); // slice 1, rows 0..2, column 1
  });

  it('a volume downsampled 2× in-plane is sampled back at the scan’s full size', () => {
    // Scan 8×6, volume 4×3: scan column 5 lies in volume column 2, scan row 4 in volume row 2.
    const cor = reformatVolume(vol, 8, 6, 'coronal', 4, false);
    expect(cor.length).toBe(8 * 5);
    expect([...cor.slice(0, 8)]).toEqual([20, 20, 21, 21, 22, 22, 23, 23]);
  });

  it('masks are cut at full size along the same plane, empty slices stay empty', () => {
    const m = new Uint8Array(4 * 3);
    m[1 * 4 + 2] = 1; // x 2, y 1
    const cut = reformatMasks([undefined, m, undefined], 4, 3, 'coronal', 1, false);
    expect([...cut]).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    const sag = reformatMasks([undefined, m, undefined], 4, 3, 'sagittal', 2, true);
    expect([...sag]).toEqual([0, 0, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('the crosshair: a click on one view moves the others, and lines land on the clicked pixel', () => {
    const size = { width: 4, height: 3, depth: 5 };
    const start = { x: 0, y: 0, z: 2 };
    const a = pointFromView('axial', 3.2, 1.7, start, size, true);
    expect(a).toEqual({ x: 3, y: 1, z: 2 });
    const c = pointFromView('coronal', 1.5, 0.2, a, size, true); // top row of a reversed stack = slice 4
    expect(c).toEqual({ x: 1, y: 1, z: 4 });
    const s = pointFromView('sagittal', 2.9, 4.9, c, size, false);
    expect(s).toEqual({ x: 1, y: 2, z: 4 });
    expect(crosshairOnView('coronal', c, 5, true)).toEqual({ u: 1.5, v: 0.5 });
    expect(crosshairOnView('sagittal', s, 5, false)).toEqual({ u: 2.5, v: 4.5 });
    expect(crosshairOnView('axial', s, 5, false)).toEqual({ u: 1.5, v: 2.5 });
    for (let r = 0; r < 5; r++) expect(sliceOfRow(sliceOfRow(r, 5, true), 5, true)).toBe(r);
  });

  it('rows are drawn slice step ÷ pixel spacing tall', () => {
    expect(sliceStepMm([3, 6, 9, 12], null)).toBe(3);
    expect(sliceStepMm([-10, -7.5, -5], null)).toBe(2.5);
    expect(sliceStepMm([null, null], 4)).toBe(4);
    expect(sliceStepMm([null], null)).toBeNull();
    expect(rowAspect(3, 1.5)).toBe(2);
    expect(rowAspect(null, 1.5)).toBe(1);
  });
});

describe('the scan volume the viewer fetches (scan:volume)', () => {
  it('keeps the slice order and the values within half a quantisation step', async () => {
    const scan = inMemoryScan({
      id: 'case1_day1',
      slices: 3,
      width: 6,
      height: 4,
      pixel: (i, p) => 1000 + 100 * i + p,
    });
    const vol = decodeVolume(await scanVolume(scan, 256));
    expect([vol.width, vol.height, vol.depth]).toEqual([6, 4, 3]);
    for (let i = 0; i < 3; i++) {
      for (let p = 0; p < 24; p++) {
        const value = vol.offset + vol.data[i * 24 + p]! * vol.scale;
        // The top 0.1 % is clipped: only the brightest pixel may sit below its value.
        if (i === 2 && p === 23) continue;
        expect(Math.abs(value - (1000 + 100 * i + p))).toBeLessThanOrEqual(vol.scale / 2 + 1e-9);
      }
    }
  });

  it('box-averages to the requested size', async () => {
    const scan = inMemoryScan({ id: 'case1_day1', slices: 2, width: 40, height: 20, pixel: () => 5 });
    const vol = decodeVolume(await scanVolume(scan, 20));
    expect([vol.width, vol.height, vol.depth]).toEqual([20, 10, 2]);
  });
});

const python = pythonWith(['numpy', 'PIL']);

describeWithSharedData('reformat of a real UW-Madison scan (case146_day25) against numpy', () => {
  const it2 = python ? it : it.skip;
  it2(
    'the coronal and sagittal planes equal numpy’s, and the stomach lies above the large bowel',
    async () => {
      const root = sharedPath('uwmgi-scans/train/case146/case146_day25');
      const dataset = await openDataset(root);
      const scan = allScans(dataset).find((s) => s.id === 'case146_day25')!;
      const vol = decodeVolume(await scanVolume(scan, 512));
      expect([vol.width, vol.height]).toEqual([scan.width, scan.height]);
      const row = 140;
      const col = 120;
      const ours = {
        coronal: reformatVolume(vol, scan.width, scan.height, 'coronal', row, false),
        sagittal: reformatVolume(vol, scan.width, scan.height, 'sagittal', col, false),
      };
      const files = scan.slices.map((s) => path.resolve(dataset.root, s.file!));
      const script = `
import json, sys
import numpy as np
from PIL import Image
files = json.loads(sys.stdin.read())
vol = np.stack([np.asarray(Image.open(f), dtype=np.float64) for f in files])  # (slice, row, column)
print(json.dumps({'coronal': vol[:, ${row}, :].ravel().tolist(), 'sagittal': vol[:, :, ${col}].ravel().tolist()}))
`;
      const out = spawnSync(python!, ['-c', script], {
        input: JSON.stringify(files),
        encoding: 'utf8',
        maxBuffer: 1 << 28,
      });
      expect(out.status, out.stderr).toBe(0);
      const ref = JSON.parse(out.stdout) as { coronal: number[]; sagittal: number[] };
      for (const plane of ['coronal', 'sagittal'] as const) {
        expect(ours[plane].length).toBe(ref[plane].length);
        let worst = 0;
        ref[plane].forEach((v, i) => {
          const ourValue = vol.offset + ours[plane][i]! * vol.scale;
          // Values above the 99.9th percentile are clipped by design; compare the rest.
          if (v <= vol.offset + 255 * vol.scale) worst = Math.max(worst, Math.abs(ourValue - v));
        });
        expect(worst).toBeLessThanOrEqual(vol.scale / 2 + 1e-6);
      }

      // Head up: UW-Madison slices run head → feet, so the coronal stomach sits above the large bowel.
      const direction = sliceDirection(RADIOLOGICAL_AXIAL, scan.source);
      expect(direction).toBe('I');
      const reversed = stackDrawnReversed(direction);
      const meanRow: Record<string, number> = {};
      for (const organ of ['stomach', 'large_bowel'] as const) {
        let sum = 0;
        let n = 0;
        for (let y = 0; y < scan.height; y += 4) {
          const cut = reformatMasks(
            scan.slices.map((s) => dataset.masks.get(s.id)?.[organ]?.data),
            scan.width,
            scan.height,
            'coronal',
            y,
            reversed,
          );
          cut.forEach((v, i) => {
            if (v) {
              sum += Math.floor(i / scan.width);
              n++;
            }
          });
        }
        expect(n).toBeGreaterThan(0);
        meanRow[organ] = sum / n;
      }
      expect(meanRow.stomach!).toBeLessThan(meanRow.large_bowel!);
      expect(ORGANS).toContain('stomach');
    },
    // Decoding a whole scan's PNGs twice (here and in numpy) is slow on a loaded 2-core machine.
    600_000,
  );
});

describe('which job a panel shows', () => {
  const job = (id: string, root: string | undefined, status: JobSummary['status'] = 'done'): JobSummary => ({
    id,
    kind: 'segment',
    status,
    done: 3,
    total: 3,
    message: '',
    ...(root ? { datasetRoot: root } : {}),
  });

  it('the previous folder’s finished job is not this folder’s', () => {
    const jobs = [job('a', '/data/one'), job('b', '/data/two')];
    expect(latestJobFor(jobs, 'segment', '/data/one')?.id).toBe('a');
    expect(latestJobFor([job('a', '/data/one')], 'segment', '/data/two')).toBeNull();
    expect(latestJobFor([job('c', undefined)], 'segment', '/data/two')?.id).toBe('c');
    expect(latestJobFor(jobs, 'train', '/data/one')).toBeNull();
  });

  it('a job that does not know its size yet shows no 0/0', () => {
    expect(jobProgress({ status: 'running', done: 0, total: 0 })).toEqual({ counts: null, fraction: null });
    expect(jobProgress({ status: 'running', done: 12, total: 48 })).toEqual({
      counts: { done: 12, total: 48 },
      fraction: 0.25,
    });
    expect(jobProgress({ status: 'done', done: 0, total: 0 }).counts).toBeNull();
  });
});

describe('plural forms', () => {
  it('English: 1 slice, 2 slices', () => {
    const { t } = createTractusI18n('en').global;
    expect(t('tree.slices', 1)).toBe('1 slice');
    expect(t('tree.slices', 2)).toBe('2 slices');
    expect(t('train.newModel', { id: 'x', n: 1 }, 1)).toBe('New model x, trained on 1 slice.');
    expect(t('train.explain', 1)).toContain('the slice you corrected');
    expect(t('train.explain', 5)).toContain('the 5 slices');
    expect(t('warnings.title', 1)).toMatch(/^1 problem while/);
  });
  it('French: 0 and 1 in the singular, never “des 1 coupes”', () => {
    const { t } = createTractusI18n('fr').global;
    expect(t('tree.slices', 0)).toBe('0 coupe');
    expect(t('tree.slices', 1)).toBe('1 coupe');
    expect(t('tree.slices', 2)).toBe('2 coupes');
    expect(t('train.explain', 1)).toContain('de la coupe');
    expect(t('train.explain', 1)).not.toContain('des 1');
    expect(t('train.explain', 3)).toContain('des 3 coupes');
    expect(t('train.newModel', { id: 'x', n: 1 }, 1)).toBe('Nouveau modèle x, entraîné sur 1 coupe.');
  });
});
