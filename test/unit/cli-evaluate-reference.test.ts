/**
 * `tractus evaluate` against the independent numpy/scipy reference (test/reference/metrics_reference.py) on
 * real UW-Madison masks: the reference writes deterministic perturbed predictions (dilated, eroded, shifted,
 * dropped, false positives, duplicates, random scores with ties), both implementations score the same files.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateFiles } from '../../main/services/evaluate';
import { pythonWith } from '../helpers/python';
import { FIXTURES, REPO_ROOT, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const REFERENCE = path.join(REPO_ROOT, 'test/reference/metrics_reference.py');
const PYTHON = pythonWith(['numpy', 'scipy']);
const hasPython = PYTHON !== null;
const describeWithPython = hasPython ? describe : describe.skip;

function python(...args: string[]): string {
  const run = spawnSync(PYTHON ?? 'python3', [REFERENCE, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`reference failed: ${run.stderr}`);
  return run.stdout;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function perturbed(gt: string, scans = ''): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tractus-eval-'));
  dirs.push(dir);
  python('perturb', '--gt', gt, '--out', dir, '--seed', '7', ...(scans ? ['--scans', scans] : []));
  return dir;
}

/** Same keys; numbers within `tol` (AP keys within `apTol`), null where the other is null. */
function expectAgreement(actual: unknown, expected: unknown, at = ''): void {
  const isAp = /coco/.test(at);
  if (typeof expected === 'number') {
    expect(typeof actual, at).toBe('number');
    if (Number.isInteger(expected) && !isAp && !/dice|hausdorff|score/.test(at))
      expect(actual, at).toBe(expected);
    else expect(Math.abs((actual as number) - expected), at).toBeLessThanOrEqual(isAp ? 1e-4 : 1e-6);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    expect(actual, at).toEqual(expected);
    return;
  }
  for (const [key, value] of Object.entries(expected)) {
    expect(actual, at).toHaveProperty([key]);
    expectAgreement((actual as Record<string, unknown>)[key], value, `${at}.${key}`);
  }
}

async function compare(dir: string, gt: string, pred: string): Promise<void> {
  const reference = JSON.parse(
    python('evaluate', '--gt', path.join(dir, gt), '--pred', path.join(dir, pred)),
  );
  const ours = await evaluateFiles({ gt: path.join(dir, gt), pred: path.join(dir, pred) });
  expectAgreement(ours, reference);
  // The perturbations must exercise what they claim to.
  expect(reference.counts.pairs_scored).toBeGreaterThan(50);
  expect(reference.counts.false_positive_slices).toBeGreaterThan(0);
  expect(reference.counts.missed_slices).toBeGreaterThan(0);
  expect(reference.counts.hausdorff_one_side_empty).toBeGreaterThan(0);
  expect(reference.coco.AP).toBeGreaterThan(0.05);
  expect(reference.coco.AP).toBeLessThan(0.95);
}

describeWithPython('evaluate agrees with the numpy/scipy reference (fixture: 2 real scans)', () => {
  const dir = () => cached ?? (cached = perturbed(path.join(FIXTURES, 'metrics/eval_subset_2scans.csv')));
  let cached: string | undefined;

  it('wide CSV ground truth vs Kaggle submission CSV (scores 1.0, ties everywhere)', async () => {
    await compare(dir(), 'gt.csv', 'pred.csv');
  });
  it('COCO dataset vs COCO results with random scores and duplicates', async () => {
    await compare(dir(), 'gt.coco.json', 'pred.results.json');
  });
  it('wide CSV ground truth vs COCO results (image ids 1.. in row order)', async () => {
    await compare(dir(), 'gt.csv', 'pred.results.json');
  });

  it('COCO results with their own images file are matched by file name → slice id', async () => {
    const gt = JSON.parse(readFileSync(path.join(dir(), 'gt.coco.json'), 'utf8'));
    const results = JSON.parse(readFileSync(path.join(dir(), 'pred.results.json'), 'utf8'));
    // Their own numbering: ids reversed and offset, file names under another folder.
    const own = (id: number) => 5000 - id;
    const images = gt.images.map((im: { id: number; file_name: string }) => ({
      ...im,
      id: own(im.id),
      file_name: `elsewhere/${im.file_name}`,
    }));
    writeFileSync(path.join(dir(), 'own.images.json'), JSON.stringify({ images, annotations: [] }));
    const remapped = results.map((r: { image_id: number }) => ({ ...r, image_id: own(r.image_id) }));
    writeFileSync(path.join(dir(), 'own.results.json'), JSON.stringify(remapped));
    const viaOwn = await evaluateFiles({
      gt: path.join(dir(), 'gt.csv'),
      pred: path.join(dir(), 'own.results.json'),
      predImages: path.join(dir(), 'own.images.json'),
    });
    expect(viaOwn).toEqual(
      await evaluateFiles({ gt: path.join(dir(), 'gt.csv'), pred: path.join(dir(), 'pred.results.json') }),
    );
  });
});

describeWithSharedData('evaluate agrees with the reference on more of eval_subset.csv', () => {
  (hasPython ? it : it.skip)(
    '3 scans of both sizes, COCO and CSV inputs',
    async () => {
      const dir = perturbed(
        sharedPath('uwmgi-masks/eval_subset.csv'),
        'case122_day0,case133_day25,case92_day0',
      );
      await compare(dir, 'gt.coco.json', 'pred.results.json');
      await compare(dir, 'gt.csv', 'pred.csv');
    },
    240_000,
  ); // python + scipy on ~220 real slices; the shared 2-core machine can be slow
});
