/**
 * The review workflow in real Chromium against `tractus serve`: a segmentation asks before replacing the
 * imported ground truth (naming it), its output is a layer shown beside or against the working contour,
 * and an earlier layer can be made the working contour again; undo follows the clinician across organs
 * and a slice undone back to its layer is not "edited"; "Approve scan" covers the slices shown or says how
 * many were not, with who/when/which model in the workspace's audit trail; the COCO export opens in
 * `tractus info` and in a pycocotools-style reader (python3 + json) from where it was written; the clinic's
 * structure names set in the export panel are kept and name the ROIs of the RTSTRUCT export.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { readRtStruct } from '../../main/imaging/dicom-contours';
import { REPO_ROOT } from '../helpers/shared-data';
import { SCREENSHOT_DIR, chromiumSuite, openE2eSession, type E2eSession } from './helpers';

const run = promisify(execFile);
const suite = chromiumSuite();

/** Any red (stomach) pixel within ±6 px of the main viewer's centre. */
async function redNearCentre(page: Page): Promise<boolean> {
  return page.evaluate<boolean>(`(() => {
    const c = document.querySelector('[data-testid="viewer-canvas"] canvas');
    const x0 = Math.floor(c.width / 2) - 6, y0 = Math.floor(c.height / 2) - 6;
    const d = c.getContext('2d').getImageData(x0, y0, 13, 13).data;
    for (let i = 0; i < d.length; i += 4) if (d[i] > d[i + 1] + 60 && d[i] > d[i + 2] + 60) return true;
    return false;
  })()`);
}

suite('review workflow in Chromium (tractus serve)', () => {
  let e2e: E2eSession;
  let page: Page;

  beforeAll(async () => {
    e2e = await openE2eSession({
      tmpPrefix: 'tractus-e2e-review-',
      dataset: { slices: 12, size: 96, patients: 2 },
      tinyModel: true,
      viewport: { width: 1920, height: 1080 },
      // Segmentation jobs and the renderer share 2 cores with other work: be patient, not flaky.
      defaultTimeout: 90_000,
    });
    page = e2e.page;
  }, 600_000);

  afterAll(async () => {
    await e2e?.close();
  });

  /** The scan's workspace file (home/workspaces/<dataset>-<hash>/scans/<scan>.coco.json), parsed. */
  async function workspaceScan(scanId: string) {
    const base = path.join(e2e.tmp, 'home', 'workspaces');
    const [dir] = readdirSync(base);
    return JSON.parse(await readFile(path.join(base, dir!, 'scans', `${scanId}.coco.json`), 'utf8'));
  }

  it('asks before the model replaces ground truth; runs are layers; an earlier layer comes back', async () => {
    await page.goto(e2e.server.url, { timeout: 120_000 });
    await page.getByTestId('scan-case7_day1').waitFor();
    await expect.poll(() => page.getByTestId('slice-label').first().textContent()).toContain('7 / 12');
    const source = page.getByTestId('slice-source').first();
    await expect.poll(() => source.textContent()).toContain('ground truth');
    const job = page.getByTestId('segment-job');

    // First run: the dialog names the scan and its ground truth; keep the truth, add the run as a layer.
    await page.getByTestId('segment-scan').click();
    const dialog = page.getByTestId('replace-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/case7_day1.*ground truth on \d+ slices/);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'review-01-replace-dialog.png') });
    await page.getByTestId('replace-layer').click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 120_000 }).toBe('done');
    await page.getByTestId('layer-run:1').waitFor();
    await expect.poll(() => page.getByTestId('layer-truth').textContent()).toContain('working contour');
    expect(await source.textContent()).toContain('ground truth');

    // Truth and model side by side, then their difference.
    await page.getByTestId('layer-compare-select').selectOption('run:1');
    await page.getByTestId('layer-compare').waitFor();
    await page.getByTestId('compare-difference').click();
    await expect
      .poll(() => page.getByTestId('difference-counts').textContent())
      .toMatch(/only working: \d+ px · .*only this layer: \d+ px/);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'review-02-difference.png') });
    await page.getByTestId('layer-compare-select').selectOption('');

    // Second run replaces the truth as the working contour, on request; the truth comes back with one click.
    await page.getByTestId('segment-scan').click();
    await page.getByTestId('replace-confirm').click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 120_000 }).toBe('done');
    await expect.poll(() => page.getByTestId('layer-run:2').textContent()).toContain('working contour');
    await expect.poll(() => source.textContent()).toContain('model');
    await page.getByTestId('layer-use-truth').click();
    await expect.poll(() => page.getByTestId('layer-truth').textContent()).toContain('working contour');
    await expect.poll(() => source.textContent()).toContain('ground truth');
    const doc = await workspaceScan('case7_day1');
    expect(doc.tractus.runs.map((r: { n: number; model: string }) => [r.n, r.model])).toEqual([
      [1, expect.stringContaining('tiny-e2e')],
      [2, expect.stringContaining('tiny-e2e')],
    ]);
    expect(doc.tractus.audit.map((a: { action: string }) => a.action)).toEqual([
      'segment',
      'segment',
      'use-layer',
    ]);
  }, 300_000);

  it('undo follows the clinician across organs; back to the layer, the slice is not edited', async () => {
    // Only the stomach shown; erase its centre, paint a blob there with a small brush.
    await page.getByTestId('organ-stomach').locator('.legend-name').click();
    await page.getByTestId('toggle-large_bowel').click();
    await page.getByTestId('toggle-small_bowel').click();
    const box = (await page.getByTestId('viewer-canvas').first().boundingBox())!;
    const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
    const before = await redNearCentre(page);
    await page.getByTestId(before ? 'tool-eraser' : 'tool-brush').click();
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 4, cy + 2, { steps: 3 });
    await page.mouse.up();
    await expect.poll(() => redNearCentre(page)).toBe(!before);
    const state = page.getByTestId('slice-state').first();
    await expect.poll(() => state.textContent()).toContain('edited');
    // Select another organ: Ctrl+Z still undoes the stomach stroke, and the slice is as it was.
    await page.getByTestId('organ-large_bowel').locator('.legend-name').click();
    await page.keyboard.press('Control+z');
    await expect.poll(() => redNearCentre(page)).toBe(before);
    await expect.poll(() => state.textContent()).not.toContain('edited');
    await expect.poll(() => page.getByTestId('slice-source').first().textContent()).toContain('ground truth');
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('save-status').getAttribute('class')).toContain('save-saved');
    const doc = await workspaceScan('case7_day1');
    expect(doc.tractus.sliceIds).not.toContain('case7_day1_slice_0007');
    await page.getByTestId('toggle-large_bowel').click();
    await page.getByTestId('toggle-small_bowel').click();
  }, 300_000);

  it('"Approve scan" covers the slices shown, says how many were not, and records who and when', async () => {
    await page.getByTestId('scan-case8_day1').click();
    await expect.poll(() => page.locator('.viewer-label').first().textContent()).toContain('case8 · day1');
    await expect.poll(() => page.getByTestId('slice-label').first().textContent()).toContain('7 / 12');
    // A slice counts as shown once its pixels are on screen: wait for slice 7's before moving on.
    await expect.poll(() => page.locator('.viewer-loading').count()).toBe(0);
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByTestId('slice-label').first().textContent()).toContain('8 / 12');
    await expect.poll(() => page.locator('.viewer-loading').count()).toBe(0);
    await page.getByTestId('approve-scan').click();
    const dialog = page.getByTestId('approve-dialog');
    await dialog.waitFor();
    expect(await page.getByTestId('approve-unviewed').textContent()).toContain(
      '10 slices of this scan were never shown to you',
    );
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'review-03-approve-dialog.png') });
    await page.getByTestId('approve-viewed').click();
    await expect.poll(() => page.getByTestId('slice-state').first().textContent()).toContain('approved');
    const doc = await workspaceScan('case8_day1');
    expect(doc.tractus.approved).toBe(false);
    const approved = Object.entries(doc.tractus.states).filter(([, s]) => s === 'approved');
    expect(approved.map(([id]) => id).sort()).toEqual(['case8_day1_slice_0007', 'case8_day1_slice_0008']);
    const entry = doc.tractus.audit.at(-1);
    expect(entry).toMatchObject({
      user: os.userInfo().username,
      action: 'approve',
      slices: ['case8_day1_slice_0007', 'case8_day1_slice_0008'],
      layers: { truth: 2 },
    });
    expect(Date.now() - Date.parse(entry.at)).toBeLessThan(10 * 60_000);
    // A slice never shown stays unapproved.
    await page.keyboard.press('End');
    await expect.poll(() => page.getByTestId('slice-label').first().textContent()).toContain('12 / 12');
    expect(await page.getByTestId('slice-state').first().textContent()).toContain('auto');
  }, 300_000);

  it('the COCO export opens in tractus info and a pycocotools-style reader from where it is written', async () => {
    await page.getByTestId('export-coco').click();
    const result = page.getByTestId('export-result');
    await result.waitFor({ timeout: 60_000 });
    const file = /(\/\S+annotations\.coco\.json)/.exec((await result.textContent()) ?? '')![1]!;
    // The reader runs from another folder: names resolve against the file's own folder.
    const check = `
import json, os, sys
path = sys.argv[1]
d = json.load(open(path))
root = os.path.dirname(path)
assert {'images', 'annotations', 'categories'} <= d.keys()
ids = {i['id'] for i in d['images']}
missing = [i['file_name'] for i in d['images'] if not os.path.isfile(os.path.join(root, i['file_name']))]
assert not missing, missing[:3]
for a in d['annotations']:
    assert a['image_id'] in ids and a['segmentation']['counts'] and len(a['bbox']) == 4
    assert a['tractus']['source'] in ('ground-truth', 'prediction', 'workspace')
src = {i['tractus']['slice_id']: (i['tractus']['source'], i['tractus']['review_state']) for i in d['images']}
print(json.dumps({'images': len(d['images']), 'annotations': len(d['annotations']),
  's7': src['case8_day1_slice_0007'], 's12': src['case8_day1_slice_0012'],
  'audit': sorted(d['tractus']['audit'].keys())}))
`;
    const py = await run('python3', ['-c', check, file], { cwd: os.tmpdir() });
    const facts = JSON.parse(py.stdout);
    expect(facts.images).toBe(48);
    expect(facts.annotations).toBeGreaterThan(0);
    expect(facts.s7).toEqual(['ground-truth', 'approved']);
    expect(facts.s12).toEqual(['ground-truth', 'auto']);
    expect(facts.audit).toEqual(['case7_day1', 'case7_day8', 'case8_day1', 'case8_day8']);
    const info = await run(process.execPath, ['--import', 'tsx', 'main/cli/index.ts', 'info', file], {
      cwd: REPO_ROOT,
    });
    expect(info.stdout).toContain('case8_day1');
  }, 300_000);

  it('the clinic’s structure names, set in the export panel, name the RTSTRUCT’s ROIs and are kept', async () => {
    await page.getByTestId('roi-names').locator('summary').click();
    await page.getByTestId('roi-name-large_bowel').fill('Colon');
    await page.getByTestId('roi-name-stomach').fill('Stomach_Clinic');
    await page.getByTestId('roi-names-save').click();
    await expect.poll(() => page.locator('.toast').textContent()).toContain('Structure names saved');
    // Kept: after a reload the fields show the saved names (read back from the engine's settings).
    await page.reload();
    await page.getByTestId('roi-names').locator('summary').click();
    await expect.poll(() => page.getByTestId('roi-name-large_bowel').inputValue()).toBe('Colon');
    expect(await page.getByTestId('roi-name-small_bowel').inputValue()).toBe('');
    expect(await page.getByTestId('roi-name-small_bowel').getAttribute('placeholder')).toBe('Bowel_Small');

    await page.getByTestId('export-rtstruct').click();
    const result = page.getByTestId('export-result');
    await expect.poll(() => result.textContent(), { timeout: 120_000 }).toMatch(/\.rtstruct\.dcm/);
    const file = /(\/\S+\.rtstruct\.dcm)/.exec((await result.textContent()) ?? '')![1]!;
    const rt = readRtStruct(await readFile(file), file);
    const names = rt.rois.map((r) => r.name);
    expect(names.length).toBeGreaterThan(0);
    expect(
      names.every((n) => ['Colon', 'Bowel_Small', 'Stomach_Clinic'].includes(n)),
      names.join(),
    ).toBe(true);
    expect(names).toContain('Stomach_Clinic'); // the stomach drawn and reviewed in the tests above
  }, 300_000);
});
