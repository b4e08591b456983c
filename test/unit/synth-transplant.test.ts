import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ORGANS } from '../../main/core/organs';
import { allScans, type SliceImage } from '../../main/core/types';
import { openDataset } from '../../main/imaging/open';
import { warpNearest } from '../../main/synth/fields';
import {
  loadTransplantSources,
  writeSyntheticKaggleDataset,
  writeTransplantDataset,
} from '../../main/synth/datasets';
import { readLabelScans } from '../../main/synth/label-scans';
import { registerMasks } from '../../main/synth/register';
import {
  maskOnGrid,
  organBand,
  sourceSliceFor,
  targetOnSourceGrid,
  transplantSlice,
  uwmgiPixelMm,
} from '../../main/synth/transplant';
import { FIXTURES, REPO_ROOT, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'synth-transplant-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const W = 160;
const H = 128;

/** Filled ellipse centred at (cx, cy) with half-axes rx, ry (pixel centres inside count). */
function ellipse(cx: number, cy: number, rx: number, ry = rx, w = W, h = H): Uint8Array {
  return Uint8Array.from({ length: w * h }, (_, i) =>
    ((i % w) - cx) ** 2 / rx ** 2 + (Math.floor(i / w) - cy) ** 2 / ry ** 2 <= 1 ? 1 : 0,
  );
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i]! & b[i]!;
    sum += a[i]! + b[i]!;
  }
  return (2 * inter) / sum;
}

function area(m: Uint8Array): number {
  return m.reduce((s, v) => s + v, 0);
}

describe('registerMasks (demons on organ masks)', () => {
  it('moves and reshapes an organ onto the target shape', () => {
    const cases: Array<[Uint8Array, Uint8Array]> = [
      [ellipse(50, 50, 15), ellipse(75, 60, 20)],
      [ellipse(50, 50, 15), ellipse(60, 70, 30, 12)],
    ];
    for (const [moving, fixed] of cases) {
      expect(dice(moving, fixed)).toBeLessThan(0.2);
      const field = registerMasks([moving], [fixed], W, H);
      expect(dice(warpNearest(moving, field), fixed)).toBeGreaterThan(0.85);
    }
  });

  it('registers several organs at once, each onto its own', () => {
    const moving = [ellipse(45, 64, 14), ellipse(115, 64, 14)];
    const fixed = [ellipse(55, 58, 18), ellipse(105, 72, 12)];
    const field = registerMasks(moving, fixed, W, H);
    for (let k = 0; k < 2; k++) expect(dice(warpNearest(moving[k]!, field), fixed[k]!)).toBeGreaterThan(0.8);
  });

  it('leaves the image alone when no organ is on both sides, or nothing differs', () => {
    const none = new Uint8Array(W * H);
    for (const [m, f] of [
      [ellipse(50, 50, 15), none],
      [none, ellipse(50, 50, 15)],
      [ellipse(60, 60, 20), ellipse(60, 60, 20)],
    ] as const) {
      const field = registerMasks([m], [f], W, H);
      expect(Math.max(...field.dx.map(Math.abs), ...field.dy.map(Math.abs))).toBeLessThan(0.05);
    }
  });

  it('caps the displacement at maxPx', () => {
    const field = registerMasks([ellipse(30, 30, 10)], [ellipse(130, 100, 10)], W, H, { maxPx: 12 });
    for (let i = 0; i < field.dx.length; i++) {
      expect(Math.hypot(field.dx[i]!, field.dy[i]!)).toBeLessThan(12 * 1.01);
    }
  });

  it('refuses masks of the wrong size', () => {
    expect(() => registerMasks([new Uint8Array(10)], [new Uint8Array(W * H)], W, H)).toThrow(
      /width × height/,
    );
  });
});

describe('transplant geometry', () => {
  it('maps the target organ band linearly onto the source band', () => {
    expect(organBand([1, 2, 3, 4, 5, 6], (n) => n >= 2 && n <= 4)).toEqual([2, 4]);
    expect(organBand([7, 8], () => false)).toEqual([7, 8]);
    const numbers = Array.from({ length: 100 }, (_, i) => i + 1);
    // target band 40..80 onto source band 10..30: ends to ends, middle to middle, outside extrapolated
    expect(sourceSliceFor(40, [40, 80], [10, 30], numbers)).toBe(10);
    expect(sourceSliceFor(60, [40, 80], [10, 30], numbers)).toBe(20);
    expect(sourceSliceFor(80, [40, 80], [10, 30], numbers)).toBe(30);
    expect(sourceSliceFor(38, [40, 80], [10, 30], numbers)).toBe(9);
    expect(sourceSliceFor(200, [40, 80], [10, 30], numbers)).toBe(90);
    expect(sourceSliceFor(400, [40, 80], [10, 30], numbers)).toBe(100);
    expect(sourceSliceFor(60, [40, 80], [10, 30], [5, 18, 25])).toBe(18);
  });

  it('knows the UW-Madison pixel sizes by scan size', () => {
    expect(uwmgiPixelMm(266, 266)).toBe(1.5);
    expect(uwmgiPixelMm(360, 310)).toBe(1.5);
    expect(uwmgiPixelMm(276, 276)).toBe(1.63);
  });

  it('moves a label map onto another grid by physical size, centres aligned', () => {
    // a disk of radius 30 px at 1.63 mm is 48.9 mm; on a 1.5 mm grid its radius is 32.6 px
    const disk = ellipse(138, 138, 30, 30, 276, 276);
    const out = maskOnGrid(
      disk,
      { width: 276, height: 276, pixelMm: 1.63 },
      { width: 266, height: 266, pixelMm: 1.5 },
    );
    const r = (30 * 1.63) / 1.5;
    expect(area(out) / (Math.PI * r * r)).toBeCloseTo(1, 1);
    const ref = ellipse(133, 133, r, r, 266, 266);
    expect(dice(out, ref)).toBeGreaterThan(0.97);
  });

  it('deforms the image with its organs: a shifted organ carries its texture along', () => {
    // source: a textured square organ at (40..70, 40..70); target: the same organ 12 px right, 8 px down
    const data = new Uint16Array(W * H).fill(100);
    const organ = new Uint8Array(W * H);
    for (let y = 40; y < 70; y++) {
      for (let x = 40; x < 70; x++) {
        organ[y * W + x] = 1;
        data[y * W + x] = 1000 + 10 * (x - 40) + (y - 40);
      }
    }
    const target = new Uint8Array(W * H);
    for (let y = 48; y < 78; y++) for (let x = 52; x < 82; x++) target[y * W + x] = 1;
    const image: SliceImage = { width: W, height: H, data };
    const t = transplantSlice(
      { image, masks: { stomach: { width: W, height: H, data: organ } } },
      { stomach: target },
    );
    expect(t.diceBefore!).toBeLessThan(0.5);
    expect(t.diceAfter!).toBeGreaterThan(0.9);
    expect(t.image.data).toBeInstanceOf(Uint16Array);
    // the organ's centre now shows the texture that was 12 px left and 8 px up of it
    const near = (x: number, y: number): number => t.image.data[y * W + x]!;
    expect(Math.abs(near(67, 63) - (1000 + 10 * 15 + 15))).toBeLessThan(25);
    // the label written is the source organ, moved: it stays a 30×30 organ (nearest neighbour)
    expect(Math.abs(area(t.masks.stomach!.data) - 900)).toBeLessThan(90);
    expect(t.masks.large_bowel).toBeUndefined();
  });
});

describe('writeTransplantDataset', () => {
  it('writes transplanted scans that open as a UW-Madison dataset, labels on every slice', async () => {
    const src = path.join(tmp, 'phantom');
    await writeSyntheticKaggleDataset(src, { cases: 2, days: 1, slices: 24, size: 96, seed: 3 });
    const dataset = await openDataset(src);
    const all = await loadTransplantSources(dataset);
    expect(all.map((s) => s.scanId)).toEqual(['case9001_day0', 'case9002_day0']);
    const sources = await loadTransplantSources(dataset, { exclude: ['case9001'] });
    expect(sources.map((s) => s.patientId)).toEqual(['case9002']);
    expect(await loadTransplantSources(dataset, { minSlices: 25 })).toEqual([]);
    // the same scans without their ground truth are no sources: their organs would be labelled background
    expect(await loadTransplantSources({ ...dataset, masks: new Map() })).toEqual([]);

    const labels = await readLabelScans(path.join(FIXTURES, 'synth', 'eval_subset_rows.csv'));
    const out = path.join(tmp, 'tp');
    const written = await writeTransplantDataset(sources, labels, out, {
      samples: 3,
      register: { iterations: 10 },
    });
    // case16_day0 (3 slices) and case20_day22 (7 slices), each ± 2 organ-free slices; then case16 again
    expect(written.scans).toEqual(['case7016_day0', 'case7020_day22', 'case7016_day100']);
    expect(written.slices).toBe(7 + 11 + 7);
    const back = await openDataset(out);
    const scans = allScans(back);
    expect(scans.map((s) => [s.id, s.width, s.slices.length])).toEqual([
      ['case7016_day0', 96, 7],
      ['case7016_day100', 96, 7],
      ['case7020_day22', 96, 11],
    ]);
    const csvIds = new Set(
      readFileSync(path.join(out, 'train.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]),
    );
    for (const s of scans) for (const sl of s.slices) expect(csvIds.has(sl.id)).toBe(true);
    const meta = JSON.parse(readFileSync(path.join(out, 'synth.json'), 'utf8')) as {
      generator: string;
      scans: Array<{ source: string; label: string }>;
    };
    expect(meta.generator).toBe('tractus synth transplant');
    expect(meta.scans.map((s) => [s.source, s.label])).toEqual([
      ['case9002_day0', 'case16_day0'],
      ['case9002_day0', 'case20_day22'],
      ['case9002_day0', 'case16_day0'],
    ]);
  });

  it('the CLI names the folder when no whole scan is left after --exclude', () => {
    const src = path.join(tmp, 'phantom');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'main/cli/index.ts'),
        'synth',
        'transplant',
        '--images',
        src,
        '--labels',
        path.join(FIXTURES, 'synth', 'eval_subset_rows.csv'),
        '--out',
        path.join(tmp, 'none'),
        '--exclude',
        'case9001,case9002',
      ],
      { encoding: 'utf8', cwd: REPO_ROOT },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(src);
    expect(r.stderr).toMatch(/no whole scan/);
  });
});

describeWithSharedData('transplanting a real scan onto real label maps', () => {
  it('brings case30’s organs closer to another patient’s real shapes on every organ slice', async () => {
    const dataset = await openDataset(sharedPath('uwmgi-scans'), {});
    const [source] = await loadTransplantSources(dataset, { exclude: ['case47', 'case146'] });
    expect(source!.scanId).toBe('case30_day0');
    const labels = await readLabelScans(path.join(FIXTURES, 'synth', 'eval_subset_rows.csv'));
    const label = labels.find((l) => l.scanId === 'case20_day22')!;
    let before = 0;
    let after = 0;
    for (const n of label.numbers) {
      const target = targetOnSourceGrid(label, n, source!);
      const t = transplantSlice(source!.slices.get(115)!, target); // mid-band: organs 92–137
      before += t.diceBefore ?? 0;
      after += t.diceAfter ?? 0;
      for (const o of ORGANS) if (t.masks[o]) expect(t.masks[o]!.data.length).toBe(266 * 266);
    }
    expect(after).toBeGreaterThan(before + 0.1 * label.numbers.length);
  });
});
