/**
 * `tractus evaluate`: hand-computed values end to end through the CLI, clear InputErrors for inputs that do not
 * fit together, and fuzzed prediction files that must end in a result or an InputError, never a crash.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../main/core/errors';
import { encodeCocoRle } from '../../main/masks/coco-rle';
import { evaluateFiles } from '../../main/services/evaluate';
import { REPO_ROOT } from '../helpers/shared-data';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tractus-evaluate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = path.join(tmp, name);
  writeFileSync(p, text);
  return p;
}

// Two 8×6 slices of one scan. Slice 1: stomach on rows 1–2, columns 1–3 (Kaggle RLE is row-major, 1-based).
const GT = file(
  'gt.csv',
  'id,large_bowel,small_bowel,stomach,width,height\n' +
    'case1_day1_slice_0001,,,10 3 18 3,8,6\n' +
    'case1_day1_slice_0002,,,,8,6\n',
);
// The prediction is one row lower: rows 2–3.
const PRED = file(
  'pred.csv',
  'id,class,predicted\n' +
    'case1_day1_slice_0001,stomach,18 3 26 3\n' +
    'case1_day1_slice_0001,large_bowel,\n' +
    'case1_day1_slice_0009,stomach,1 1\n',
);

describe('tractus evaluate (CLI)', () => {
  it('prints exactly one JSON object with hand-computed Dice, Hausdorff, score and AP', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'main/cli/index.ts', 'evaluate', '--gt', GT, '--pred', PRED, '--json'],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0]!);
    expect(Object.keys(r)).toEqual(['dice', 'hausdorff', 'score', 'competition', 'coco', 'counts']);
    // Dice: |A∩B| = 3 of 6 + 6 → 0.5; other organs: both empty everywhere → not scored.
    expect(r.dice).toEqual({ large_bowel: null, small_bowel: null, stomach: 0.5, mean: 0.5 });
    // Every voxel is 1 row from the other mask; diagonal √(2² + 6² + 8²).
    const h = 1 / Math.sqrt(104);
    expect(r.hausdorff.stomach).toBeCloseTo(h, 12);
    expect(r.score).toBeCloseTo(0.4 * 0.5 + 0.6 * (1 - h), 12);
    // The competition's reading: 5 of the 6 (slice, organ) pairs are empty on both sides (Dice 1 each),
    // and large and small bowel are empty in the whole scan (Hausdorff 0 each).
    expect(r.competition.dice).toEqual({ large_bowel: 1, small_bowel: 1, stomach: 0.75, mean: 5.5 / 6 });
    expect(r.competition.hausdorff.mean).toBeCloseTo(h / 3, 12);
    expect(r.competition.score).toBeCloseTo(0.4 * (5.5 / 6) + 0.6 * (1 - h / 3), 12);
    // IoU 3/9 < 0.5: no match at any threshold.
    expect(r.coco).toMatchObject({ AP: 0, AP50: 0, AP75: 0 });
    expect(r.coco.per_category).toEqual({ large_bowel: null, small_bowel: null, stomach: 0 });
    expect(r.counts).toMatchObject({
      scans: 1,
      slices: 2,
      pairs_scored: 1,
      correct_empties: 5,
      pred_slices_not_in_gt: 1,
    });
  }, 60_000);

  it('exits 2 with one line naming the file when an input is wrong', () => {
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'main/cli/index.ts',
        'evaluate',
        '--gt',
        path.join(tmp, 'missing.csv'),
        '--pred',
        PRED,
      ],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    expect(run.status).toBe(2);
    expect(run.stderr.trim()).toBe(`tractus: ${path.join(tmp, 'missing.csv')}: file not found`);
  }, 60_000);
});

/** A valid compressed RLE of a w×h mask with its first pixel set. */
const rle = (width: number, height: number) =>
  encodeCocoRle({
    width,
    height,
    data: Uint8Array.from({ length: width * height }, (_, i) => (i === 0 ? 1 : 0)),
  });

describe('evaluate: inputs that do not fit together', () => {
  const expectInputError = async (promise: Promise<unknown>, message: RegExp) => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInputError(err), String(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
  };

  it('COCO results naming an image the ground truth lacks', async () => {
    const results = file(
      'r.json',
      JSON.stringify([{ image_id: 7, category_id: 3, score: 0.5, segmentation: rle(8, 6) }]),
    );
    await expectInputError(evaluateFiles({ gt: GT, pred: results }), /\[0\]: image_id 7 is not an image/);
  });

  it('COCO results of the wrong size', async () => {
    const results = file(
      'r2.json',
      JSON.stringify([{ image_id: 1, category_id: 3, score: 0.5, segmentation: rle(8, 8) }]),
    );
    await expectInputError(evaluateFiles({ gt: GT, pred: results }), /RLE size \[8, 8\] is not the slice's/);
  });

  it('a Kaggle RLE running past the slice', async () => {
    const pred = file('p2.csv', 'id,class,predicted\ncase1_day1_slice_0001,stomach,40 20\n');
    await expectInputError(evaluateFiles({ gt: GT, pred }), /case1_day1_slice_0001 stomach/);
  });

  it('a train.csv ground truth without --images', async () => {
    const train = file('train.csv', 'id,class,segmentation\ncase1_day1_slice_0001,stomach,1 2\n');
    await expectInputError(evaluateFiles({ gt: train, pred: PRED }), /--images/);
  });

  it('a scan whose slices differ in size', async () => {
    const gt = file(
      'mixed.csv',
      'id,large_bowel,small_bowel,stomach,width,height\ncase1_day1_slice_0001,,,,8,6\ncase1_day1_slice_0002,,,,6,6\n',
    );
    await expectInputError(
      evaluateFiles({ gt, pred: PRED }),
      /case1_day1_slice_0002: is 6×6 but other slices/,
    );
  });
});

describe('evaluate: fuzzed predictions end in a result or an InputError', () => {
  const settle = async (pred: string) => {
    try {
      const r = await evaluateFiles({ gt: GT, pred });
      for (const v of [r.score, r.dice.mean, r.hausdorff.mean, r.coco.AP]) {
        if (v !== null) expect(v >= 0 && v <= 1, String(v)).toBe(true);
      }
    } catch (e) {
      if (!isInputError(e)) throw e;
    }
  };

  it('COCO results with arbitrary fields', async () => {
    const segmentation = fc.oneof(
      fc.record({
        size: fc.tuple(fc.integer({ min: -1, max: 9 }), fc.integer({ min: -1, max: 9 })),
        counts: fc.string(),
      }),
      fc.record({
        size: fc.constant([6, 8]),
        counts: fc.array(fc.integer({ min: -2, max: 50 }), { maxLength: 6 }),
      }),
      fc.anything(),
    );
    const result = fc.record(
      {
        image_id: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.anything()),
        category_id: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.string()),
        score: fc.oneof(fc.double(), fc.anything()),
        segmentation,
      },
      { requiredKeys: [] },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.array(result, { maxLength: 4 }), fc.anything()), async (json) => {
        await settle(file(`fuzz${n++}.json`, JSON.stringify(json) ?? 'null'));
      }),
      { numRuns: 150 },
    );
  });

  it('Kaggle CSVs with arbitrary cells', async () => {
    const cell = fc.oneof(
      fc.constantFrom('case1_day1_slice_0001', 'case1_day1_slice_0002', 'stomach', 'small_bowel', ''),
      fc.array(fc.integer({ min: -3, max: 60 }), { maxLength: 6 }).map((v) => v.join(' ')),
      fc.string(),
    );
    const csv = fc
      .tuple(
        fc.constantFrom(
          'id,class,predicted',
          'id,class,segmentation',
          'id,large_bowel,small_bowel,stomach,width,height',
          'x',
        ),
        fc.array(fc.array(cell, { minLength: 1, maxLength: 6 }), { maxLength: 4 }),
      )
      .map(([header, rows]) => [header, ...rows.map((r) => r.join(','))].join('\n'));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(csv, async (text) => {
        await settle(file(`fuzz${n++}.csv`, text));
      }),
      { numRuns: 150 },
    );
  });
});
