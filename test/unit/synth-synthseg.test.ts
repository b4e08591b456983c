import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../main/core/errors';
import { ORGANS } from '../../main/core/organs';
import { writeSynthSegDataset } from '../../main/synth/datasets';
import { parseLabelScans, readLabelScans, selectLabelScans } from '../../main/synth/label-scans';
import { createSynthSegSource, prepareSynthSegScan, renderSynthSegSlice } from '../../main/synth/synthseg';
import { createRng } from '../../main/model/augment/random';
import { FIXTURES, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const FIXTURE = path.join(FIXTURES, 'synth', 'eval_subset_rows.csv');
const fixtureText = readFileSync(FIXTURE, 'utf8');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'synth-synthseg-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Independent Kaggle RLE decoder (1-based starts, row-major), written from the format's definition. */
function decodeRle(rle: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const v = rle.trim().split(/\s+/).filter(Boolean).map(Number);
  for (let i = 0; i < v.length; i += 2) out.fill(1, v[i]! - 1, v[i]! - 1 + v[i + 1]!);
  return out;
}

/** Byte equality of two masks (vitest's deep equality walks typed arrays element by element: slow). */
function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return Buffer.from(a ?? new Uint8Array(b.length)).equals(Buffer.from(b));
}

/** The wide CSV read by hand: id → organ → RLE, plus size. */
function rawRows(text: string): Map<string, { w: number; h: number; rle: Record<string, string> }> {
  const [header, ...lines] = text.trim().split('\n');
  const cols = header!.split(',');
  const out = new Map<string, { w: number; h: number; rle: Record<string, string> }>();
  for (const line of lines) {
    const f = line.split(',');
    const get = (name: string): string => f[cols.indexOf(name)]!;
    out.set(get('id'), {
      w: Number(get('width')),
      h: Number(get('height')),
      rle: Object.fromEntries(ORGANS.map((o) => [o, get(o)])),
    });
  }
  return out;
}

const scans = parseLabelScans(fixtureText, FIXTURE);
const truth = rawRows(fixtureText);

function python(): boolean {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (r.status !== 0) console.warn('SKIPPED python reference: python3 with numpy not available');
  return r.status === 0;
}

describe('label scans from a wide mask CSV', () => {
  it('groups real rows by scan with their size and slice numbers', () => {
    expect(scans.map((s) => [s.scanId, s.width, s.height, s.numbers])).toEqual([
      ['case16_day0', 360, 310, [50, 51, 52]],
      ['case20_day22', 266, 266, [76, 77, 78, 79, 80, 81, 82]],
    ]);
  });

  it('turns any corruption of the CSV into an InputError or a clean parse, never a crash', () => {
    fc.assert(
      fc.property(
        fc.nat(fixtureText.length - 1),
        fc.string({ maxLength: 6 }),
        fc.nat(40),
        (at, junk, cut) => {
          const text = fixtureText.slice(0, at) + junk + fixtureText.slice(at + cut);
          try {
            parseLabelScans(text, 'x.csv');
          } catch (e) {
            if (!isInputError(e)) throw e;
            expect(e.message.startsWith('x.csv')).toBe(true);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('names the file when it is missing', async () => {
    await expect(readLabelScans(path.join(tmp, 'nope.csv'))).rejects.toThrow(/nope\.csv: file not found/);
  });
});

describe('SynthSeg rendering of real label maps', () => {
  const scan20 = scans.find((s) => s.scanId === 'case20_day22')!;

  it('without deformation, returns exactly the real label map of each slice (and nothing for unlisted slices)', () => {
    for (const label of scans) {
      const scan = prepareSynthSegScan(label, 3, { elasticPx: 0 });
      const noise = createRng(1);
      const mid = label.numbers[Math.floor(label.numbers.length / 2)]!;
      for (const n of [label.numbers[0]! - 1, label.numbers[0]!, mid]) {
        const { image, masks } = renderSynthSegSlice(scan, n, noise);
        expect([image.width, image.height]).toEqual([label.width, label.height]);
        const row = truth.get(`${label.scanId}_slice_${String(n).padStart(4, '0')}`);
        for (const o of ORGANS) {
          const want = row
            ? decodeRle(row.rle[o]!, row.w * row.h)
            : new Uint8Array(label.width * label.height);
          expect(same(masks[o]?.data, want), `${n} ${o}`).toBe(true);
        }
      }
    }
  });

  it('deforms labels exactly as a numpy nearest-neighbour resampling with the same displacement', () => {
    if (!python()) return;
    const scan = prepareSynthSegScan(scan20, 4, { elasticPx: 8 });
    const d = scan.deformation!;
    const { masks } = renderSynthSegSlice(scan, 79, createRng(2));
    const row = truth.get('case20_day22_slice_0079')!;
    const file = path.join(tmp, 'warp.json');
    writeFileSync(
      file,
      JSON.stringify({
        w: d.width,
        h: d.height,
        dx: [...d.dx],
        dy: [...d.dy],
        rle: row.rle,
      }),
    );
    const script = `
import json, sys, numpy as np
a = json.load(open(sys.argv[1]))
w, h = a['w'], a['h']
dx = np.array(a['dx']).reshape(h, w); dy = np.array(a['dy']).reshape(h, w)
yy, xx = np.mgrid[0:h, 0:w]
sx = np.clip(np.floor(xx + dx + 0.5), 0, w - 1).astype(int)
sy = np.clip(np.floor(yy + dy + 0.5), 0, h - 1).astype(int)
out = {}
for organ, rle in a['rle'].items():
    m = np.zeros(w * h, np.uint8)
    v = list(map(int, rle.split()))
    for s, n in zip(v[0::2], v[1::2]): m[s - 1:s - 1 + n] = 1
    out[organ] = m.reshape(h, w)[sy, sx].ravel().tolist()
print(json.dumps(out))
`;
    const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(r.status, r.stderr).toBe(0);
    const ref = JSON.parse(r.stdout) as Record<string, number[]>;
    let moved = 0;
    for (const o of ORGANS) {
      expect(same(masks[o]?.data, Uint8Array.from(ref[o]!)), o).toBe(true);
      const orig = decodeRle(row.rle[o]!, d.width * d.height);
      moved += orig.reduce((s, v, k) => s + (v !== ref[o]![k] ? 1 : 0), 0);
    }
    expect(moved).toBeGreaterThan(0); // the deformation really deformed
  });

  it('stretches to a requested square size', () => {
    const label = scans.find((s) => s.scanId === 'case16_day0')!;
    const scan = prepareSynthSegScan(label, 5, { size: 96 });
    const { image, masks } = renderSynthSegSlice(scan, 51, createRng(3));
    expect([image.width, image.height, image.data.length]).toEqual([96, 96, 96 * 96]);
    for (const o of ORGANS) if (masks[o]) expect(masks[o]!.data.length).toBe(96 * 96);
  });

  it('streams seeded 2.5D samples whose three slices share body and contrast', () => {
    const a = createSynthSegSource(scans, { seed: 7, size: 96, patients: ['case20'] });
    const b = createSynthSegSource(scans, { seed: 7, size: 96, patients: ['case20'] });
    for (let i = 0; i < 3; i++) {
      const s = a.next();
      const t = b.next();
      expect(s.sourceId).toMatch(/^case20_day22_slice_00(7[6-9]|8[0-2])$/);
      s.slices.forEach((x, k) =>
        expect(Buffer.from(x.data.buffer).equals(Buffer.from(t.slices[k]!.data.buffer))).toBe(true),
      );
      expect(s.slices).toHaveLength(3);
      // the body outline (non-air) agrees between slice i−2 and i+2: one body, 12 mm apart
      const body = (d: Uint16Array, k: number, hi: number): boolean => d[k]! > hi * 0.05;
      const p99 = (d: Uint16Array): number => Float64Array.from(d).sort()[Math.floor(d.length * 0.99)]!;
      const [lo, , up] = s.slices.map((x) => x.data);
      const hi = Math.max(p99(lo!), p99(up!));
      let same = 0;
      for (let k = 0; k < lo!.length; k++) same += body(lo!, k, hi) === body(up!, k, hi) ? 1 : 0;
      expect(same / lo!.length).toBeGreaterThan(0.9);
      // the organs of the centre slice lie inside the body
      for (const o of ORGANS) {
        const m = s.masks[o];
        if (!m) continue;
        const centre = s.slices[1]!.data;
        let inside = 0;
        let all = 0;
        m.data.forEach((v, k) => {
          if (!v) return;
          all++;
          inside += centre[k]! > 0 ? 1 : 0;
        });
        expect(inside / all).toBeGreaterThan(0.98);
      }
    }
    expect(() => createSynthSegSource(scans, { seed: 1, patients: ['case999'] })).toThrow(RangeError);
  });
});

describe('writeSynthSegDataset', () => {
  it('writes whole synthetic scans with the real labels in train.csv, byte-identical per seed', async () => {
    const label = scans.filter((s) => s.scanId === 'case20_day22');
    const opts = { samples: 1, seed: 4, elasticPx: 0, margin: 1 };
    const a = path.join(tmp, 'ds-a');
    const b = path.join(tmp, 'ds-b');
    const written = await writeSynthSegDataset(label, a, opts);
    await writeSynthSegDataset(label, b, opts);
    expect(written.scans).toEqual(['case8020_day22']);
    expect(written.slices).toBe(9); // slices 75..83
    const csvA = readFileSync(path.join(a, 'train.csv'), 'utf8');
    expect(csvA).toBe(readFileSync(path.join(b, 'train.csv'), 'utf8'));
    const png = path.join('train', 'case8020', 'case8020_day22', 'scans', 'slice_0079_266_266_1.50_1.50.png');
    expect(readFileSync(path.join(a, png)).equals(readFileSync(path.join(b, png)))).toBe(true);
    // every organ row decodes to the real map of the same slice number
    for (const line of csvA.trim().split('\n').slice(1)) {
      const [id, organ, rle] = line.split(',') as [string, string, string];
      const real = truth.get(id.replace('case8020', 'case20'));
      const want = real ? decodeRle(real.rle[organ]!, 266 * 266) : new Uint8Array(266 * 266);
      expect(same(decodeRle(rle, 266 * 266), want), id).toBe(true);
    }
  });

  it('renders only the organ band of a scan listed with its organ-free slices, as train_masks.csv lists them', async () => {
    // The fixture lists case20_day22's organ slices 76–82 only; train_masks.csv also lists the empty ones.
    const [header, ...lines] = fixtureText.trim().split('\n');
    const cols = header!.split(',');
    const template = lines.find((l) => l.startsWith('case20_day22_'))!.split(',');
    const emptyRow = (n: number): string =>
      cols
        .map((c, i) =>
          c === 'id'
            ? `case20_day22_slice_${String(n).padStart(4, '0')}`
            : (ORGANS as readonly string[]).includes(c)
              ? ''
              : template[i]!,
        )
        .join(',');
    const full = [header, ...lines, ...[60, 61, 70, 75, 83, 90, 144].map(emptyRow)].join('\n');
    const label = parseLabelScans(full, 'full.csv').filter((s) => s.scanId === 'case20_day22');
    expect(label[0]!.numbers).toHaveLength(7 + 7);
    const written = await writeSynthSegDataset(label, path.join(tmp, 'ds-full'), {
      samples: 1,
      seed: 4,
      elasticPx: 0,
      margin: 1,
    });
    expect(written.slices).toBe(9); // slices 75..83, as from the organ-only listing
  });
});

describe('choosing label scans for a synthetic set', () => {
  const scan = (scanId: string) => ({ ...scans[0]!, scanId, patientId: scanId.split('_')[0]! });
  const all = ['case1_day0', 'case1_day3', 'case2_day0', 'case3_day0', 'case3_day9'].map(scan);

  it('leaves out the excluded patients and keeps at most N scans of each other one', () => {
    const ids = (sel: Parameters<typeof selectLabelScans>[1]) =>
      selectLabelScans(all, sel).map((s) => s.scanId);
    expect(ids({})).toEqual(all.map((s) => s.scanId));
    expect(ids({ exclude: ['case1'] })).toEqual(['case2_day0', 'case3_day0', 'case3_day9']);
    expect(ids({ perPatient: 1 })).toEqual(['case1_day0', 'case2_day0', 'case3_day0']);
    expect(ids({ exclude: ['case3', 'case2'], perPatient: 1 })).toEqual(['case1_day0']);
  });
});

describeWithSharedData('SynthSeg on the full eval_subset.csv', () => {
  it('loads 22 real scans and renders their real label maps unchanged (no deformation)', async () => {
    const file = sharedPath('uwmgi-masks', 'eval_subset.csv');
    const all = await readLabelScans(file);
    expect(all).toHaveLength(22);
    const rows = rawRows(readFileSync(file, 'utf8'));
    const rng = createRng(99);
    for (let t = 0; t < 4; t++) {
      const label = all[rng.int(all.length)]!;
      const n = label.numbers[rng.int(label.numbers.length)]!;
      const { masks } = renderSynthSegSlice(prepareSynthSegScan(label, t, { elasticPx: 0 }), n, rng);
      const row = rows.get(`${label.scanId}_slice_${String(n).padStart(4, '0')}`)!;
      for (const o of ORGANS) {
        expect(same(masks[o]?.data, decodeRle(row.rle[o]!, row.w * row.h))).toBe(true);
      }
    }
  });
});
