import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { decodePng } from '../../main/imaging/png';
import { AbdomenModel } from '../../main/synth/anatomy';
import { createRng } from '../../main/model/augment/random';
import { generatePhantomScan } from '../../main/synth/phantom';
import { writeSyntheticKaggleDataset } from '../../main/synth/datasets';
import { T } from '../../main/synth/tissues';
import { ORGANS, type Organ } from '../../main/core/organs';
import type { BinaryMask } from '../../main/core/types';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'synth-phantom-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function count(m: BinaryMask | undefined): number {
  let n = 0;
  if (m) for (const v of m.data) n += v;
  return n;
}

function dice(a: BinaryMask | undefined, b: BinaryMask | undefined): number {
  const na = count(a);
  const nb = count(b);
  if (na + nb === 0) return 1;
  let both = 0;
  if (a && b) for (let k = 0; k < a.data.length; k++) both += a.data[k]! & b.data[k]!;
  return (2 * both) / (na + nb);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .sort();
}

// One whole-abdomen volume (9 mm apart) and one UW-like slab (3 mm apart), small enough to be fast.
const whole = generatePhantomScan(11, { slices: 38, width: 96, height: 96, sliceSpacingMm: 9 });
const slab = generatePhantomScan(12, { slices: 24, width: 128, height: 128 });

describe('generatePhantomScan', () => {
  it('is a pure function of the seed', () => {
    const a = generatePhantomScan(5, { slices: 3, width: 48, height: 40 });
    const b = generatePhantomScan(5, { slices: 3, width: 48, height: 40 });
    const c = generatePhantomScan(6, { slices: 3, width: 48, height: 40 });
    a.images.forEach((img, k) =>
      expect(Buffer.from(img.data.buffer).equals(Buffer.from(b.images[k]!.data.buffer))).toBe(true),
    );
    expect(a.masks).toEqual(b.masks);
    expect(a.images[1]!.data).not.toEqual(c.images[1]!.data);
    expect(a.images[0]).toMatchObject({ width: 48, height: 40 });
    expect(a.images[0]!.data).toBeInstanceOf(Uint16Array);
  });

  it('rejects sizes that are not positive integers', () => {
    expect(() => generatePhantomScan(1, { slices: 0, width: 64, height: 64 })).toThrow(RangeError);
    expect(() => generatePhantomScan(1, { slices: 2, width: 8, height: 64 })).toThrow(RangeError);
  });

  it('puts each organ where the anatomy has it along the body axis', () => {
    const present = (o: Organ): number[] => whole.masks.flatMap((m, i) => (count(m[o]) > 0 ? [i] : []));
    const n = whole.masks.length;
    for (const o of ORGANS) expect(present(o).length, o).toBeGreaterThan(3);
    // slices run head → feet: stomach high up, small bowel low down, colon over most of the abdomen
    expect(Math.max(...present('stomach'))).toBeLessThan(n * 0.6);
    expect(Math.min(...present('small_bowel'))).toBeGreaterThan(n * 0.3);
    expect(present('large_bowel').length).toBeGreaterThan(n * 0.5);
  });

  it('puts the stomach on the image right (patient left), as in the UW-Madison slices', () => {
    for (const m of slab.masks.concat(whole.masks)) {
      const s = m.stomach;
      if (!s || count(s) < 20) continue;
      let sx = 0;
      for (let k = 0; k < s.data.length; k++) if (s.data[k]) sx += k % s.width;
      // the stomach ends in the pylorus near the midline; its bulk lies left of it (image right)
      expect(sx / count(s) / s.width).toBeGreaterThan(0.42);
    }
  });

  it('never lets two organs share a pixel', () => {
    for (const m of whole.masks.concat(slab.masks)) {
      for (let i = 0; i < ORGANS.length; i++) {
        for (let j = i + 1; j < ORGANS.length; j++) {
          const a = m[ORGANS[i]!];
          const b = m[ORGANS[j]!];
          if (a && b) expect(a.data.some((v, k) => v & b.data[k]!)).toBe(false);
        }
      }
    }
  });

  it('keeps kidneys, spine and aorta intact: hollow organs are painted only around them', () => {
    const grid = { width: 128, height: 128, pixelMm: 399 / 128 };
    const solid = [T.kidney_cortex, T.kidney_medulla, T.vertebral_marrow, T.bone_cortex, T.csf, T.vessel];
    for (let z = 60; z <= 260; z += 25) {
      const withOrgans = new AbdomenModel(createRng(7), { organs: true, dayRng: createRng(8) }).tissuesAt(
        z,
        grid,
      );
      const without = new AbdomenModel(createRng(7), { organs: false, dayRng: createRng(8) }).tissuesAt(
        z,
        grid,
      );
      for (let k = 0; k < without.length; k++) {
        if (solid.includes(without[k]!)) expect(withOrgans[k]).toBe(without[k]);
      }
    }
  });

  it('changes smoothly from slice to slice (3 mm apart)', () => {
    for (const o of ORGANS) {
      const d: number[] = [];
      for (let i = 1; i < slab.masks.length; i++) {
        const a = slab.masks[i - 1]![o];
        const b = slab.masks[i]![o];
        if (count(a) > 30 && count(b) > 30) d.push(dice(a, b));
      }
      if (d.length === 0) continue;
      const mean = d.reduce((s, v) => s + v, 0) / d.length;
      expect(mean, o).toBeGreaterThan(0.75);
    }
  });

  it('has a 16-bit intensity range like raw16: near-black air, fat brightest, tissue in between', () => {
    // ../shared/data/raw16/test_image14.png: air mean ≈ 3 (sd 6), 99th percentile 8602, max 10081.
    for (const img of slab.images) {
      const d = img.data;
      const sorted = Float64Array.from(d).sort();
      const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
      expect(p99).toBeGreaterThan(800);
      expect(p99).toBeLessThan(20000);
      let corner = 0;
      for (let y = 0; y < 6; y++) for (let x = 0; x < 6; x++) corner += d[y * img.width + x]!;
      expect(corner / 36).toBeLessThan(p99 * 0.01);
    }
  });
});

describe('writeSyntheticKaggleDataset', () => {
  it('writes the UW-Madison layout and byte-identical files for the same seed', async () => {
    const opts = { cases: 1, days: 2, slices: 3, size: 64, seed: 9 };
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    await writeSyntheticKaggleDataset(a, opts);
    await writeSyntheticKaggleDataset(b, opts);
    const files = filesUnder(a);
    expect(files).toEqual(filesUnder(b));
    for (const f of files)
      expect(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))), f).toBe(true);
    expect(files).toContain(
      path.join('train', 'case9001', 'case9001_day7', 'scans', 'slice_0003_64_64_6.23_6.23.png'),
    );
    const png = decodePng(
      readFileSync(
        path.join(
          a,
          files.find((f) => f.endsWith('.png'))!,
        ),
      ),
      'png',
    );
    expect(png.data).toBeInstanceOf(Uint16Array);

    // train.csv: one row per slice and organ, Kaggle RLE runs sorted and inside the 64×64 slice
    const csv = readFileSync(path.join(a, 'train.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('id,class,segmentation');
    expect(csv).toHaveLength(1 + 2 * 3 * 3);
    expect(csv[1]).toMatch(/^case9001_day0_slice_0001,large_bowel,/);
    let organRows = 0;
    for (const line of csv.slice(1)) {
      const runs = line.split(',')[2]!.split(' ').filter(Boolean).map(Number);
      if (runs.length) organRows++;
      for (let i = 2; i < runs.length; i += 2)
        expect(runs[i]!).toBeGreaterThan(runs[i - 2]! + runs[i - 1]! - 1);
      if (runs.length) expect(runs.at(-2)! + runs.at(-1)! - 1).toBeLessThanOrEqual(64 * 64);
    }
    expect(organRows).toBeGreaterThan(0);
  });
});

describe('tractus synth', () => {
  it('writes a phantom dataset from the command line and rejects a bad number with a clear message', async () => {
    const { runCli } = await import('../../main/cli/program');
    const out = path.join(tmp, 'cli');
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runCli([
        'node',
        'tractus',
        'synth',
        'phantom',
        '--out',
        out,
        '--slices',
        '2',
        '--size',
        '32',
        '--json',
      ]);
      expect(process.exitCode ?? 0).toBe(0);
      expect(JSON.parse(String(stdout.mock.calls.at(-1)![0]))).toMatchObject({ slices: 4 });
      expect(filesUnder(out).filter((f) => f.endsWith('.png'))).toHaveLength(4);
      await runCli(['node', 'tractus', 'synth', 'phantom', '--out', out, '--cases', 'two']);
      expect(process.exitCode).toBe(2);
      expect(String(stderr.mock.calls.at(-1)![0])).toMatch(/--cases: must be a whole number/);
    } finally {
      process.exitCode = 0;
      stdout.mockRestore();
      stderr.mockRestore();
    }
  });
});
