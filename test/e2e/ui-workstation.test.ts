/**
 * The clinician's main path in real Chromium against `tractus serve`: open the patient, scroll, segment,
 * toggle organs, paint and undo, save, reload and find the edit, export COCO and read it back.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { parseCocoDataset, cocoToSliceMasks } from '../../main/masks/coco';
import { SCREENSHOT_DIR, chromiumSuite, openE2eSession, type E2eSession } from './helpers';

const suite = chromiumSuite();

/** RGBA of the main viewer's canvas at its centre. */
async function centrePixel(page: Page): Promise<[number, number, number]> {
  // A string, not a function: this file is type-checked without the DOM library.
  return page.evaluate<[number, number, number]>(`(() => {
    const c = document.querySelector('[data-testid="viewer-canvas"] canvas');
    const d = c.getContext('2d').getImageData(Math.floor(c.width / 2), Math.floor(c.height / 2), 1, 1).data;
    return [d[0], d[1], d[2]];
  })()`);
}

const isRed = ([r, g, b]: [number, number, number]) => r > g + 60 && r > b + 60;

suite('workstation in Chromium (tractus serve)', () => {
  let e2e: E2eSession;
  let page: Page;

  beforeAll(async () => {
    e2e = await openE2eSession({
      tmpPrefix: 'tractus-e2e-',
      // Two patients (so a fine-tune has one to validate on) and a tiny active model (so it takes seconds).
      dataset: { slices: 12, size: 96, patients: 2 },
      tinyModel: true,
      viewport: { width: 1920, height: 1080 },
    });
    page = e2e.page;
  });

  afterAll(async () => {
    await e2e?.close();
  });

  it('opens the patient, scrolls, segments, paints, undoes, saves, reloads and exports', async () => {
    await page.goto(e2e.server.url);
    await page.getByTestId('scan-case7_day1').waitFor();
    await expect.poll(() => page.getByTestId('safety-banner').textContent()).toContain('clinician');
    const label = page.getByTestId('slice-label');
    await expect.poll(() => label.textContent()).toContain('7 / 12');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '01-open.png') });

    // Scroll with the wheel and the arrow keys, then come back to the middle slice.
    const canvas = page.getByTestId('viewer-canvas');
    const box = (await canvas.boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.wheel(0, 120);
    await expect.poll(() => label.textContent()).toContain('8 / 12');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => label.textContent()).toContain('9 / 12');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    await expect.poll(() => label.textContent()).toContain('7 / 12');

    // Segmentation of the scan runs as a job with the active (shipped) model and finishes.
    // The scan has imported ground truth: the app asks before the model replaces it as the working contour.
    await page.getByTestId('segment-scan').click();
    await page.getByTestId('replace-confirm').click();
    const job = page.getByTestId('segment-job');
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');

    // Clear the centre of the stomach mask (ground truth or model output may be there) with a wide eraser,
    // showing only the stomach, then paint a small blob with the brush.
    await page.getByTestId('organ-stomach').locator('.legend-name').click();
    await page.keyboard.press('1');
    await page.keyboard.press('2');
    await page.getByTestId('tool-eraser').click();
    for (let i = 0; i < 26; i++) await page.keyboard.press(']');
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.up();
    await expect.poll(() => centrePixel(page).then(isRed)).toBe(false);
    await page.getByTestId('tool-brush').click();
    for (let i = 0; i < 26; i++) await page.keyboard.press('[');
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 6, cy + 3, { steps: 3 });
    await page.mouse.up();
    await expect.poll(() => centrePixel(page).then(isRed)).toBe(true);
    await expect.poll(() => page.getByTestId('slice-state').textContent()).toContain('edited');

    // Organ visibility: key 3 hides the stomach, the toggle shows it again.
    await page.keyboard.press('3');
    await expect.poll(() => centrePixel(page).then(isRed)).toBe(false);
    await page.getByTestId('toggle-stomach').click();
    await expect.poll(() => centrePixel(page).then(isRed)).toBe(true);

    // Undo and redo (Ctrl+Z / Ctrl+Shift+Z).
    await page.keyboard.press('Control+z');
    await expect.poll(() => centrePixel(page).then(isRed)).toBe(false);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => centrePixel(page).then(isRed)).toBe(true);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '02-painted.png') });

    // Autosave, then an explicit save; reload and find the edit.
    await page.getByTestId('save').click();
    await expect.poll(() => page.getByTestId('save-status').getAttribute('class')).toContain('save-saved');
    await page.reload();
    await page.getByTestId('scan-case7_day1').waitFor();
    await expect.poll(() => label.textContent()).toContain('7 / 12');
    await page.keyboard.press('1');
    await page.keyboard.press('2');
    await expect.poll(() => centrePixel(page).then(isRed)).toBe(true);
    await expect.poll(() => page.getByTestId('slice-state').textContent()).toContain('edited');

    // Export COCO and read it back with main/masks.
    await page.getByTestId('export-coco').click();
    const result = page.getByTestId('export-result');
    await result.waitFor({ timeout: 30_000 });
    const file = /(\/\S+annotations\.coco\.json)/.exec((await result.textContent()) ?? '')![1]!;
    const coco = parseCocoDataset(JSON.parse(await readFile(file, 'utf8')), file);
    expect(coco.images).toHaveLength(48);
    const image = coco.images.find((i) => i.file_name.includes('case7_day1/scans/slice_0007_'))!;
    expect(image).toBeDefined();
    const stomach = cocoToSliceMasks(coco, file).get(image.id)!.stomach!;
    // Within the erased disc (radius 30 px around the centre) only the brushed blob remains: a 4-px brush
    // dragged a few screen pixels covers tens of pixels around the image centre (48, 48).
    let n = 0;
    let sx = 0;
    let sy = 0;
    stomach.data.forEach((v, i) => {
      const x = i % stomach.width;
      const y = Math.floor(i / stomach.width);
      if (v && Math.hypot(x + 0.5 - 48, y + 0.5 - 48) < 20) {
        n++;
        sx += x;
        sy += y;
      }
    });
    expect(n).toBeGreaterThan(30);
    expect(n).toBeLessThan(200);
    expect(Math.abs(sx / n - 48)).toBeLessThan(4);
    expect(Math.abs(sy / n - 48)).toBeLessThan(4);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '03-exported.png') });
  });

  it('shows two days side by side at the same millimetre position', async () => {
    await page.getByTestId('compare').check();
    const labels = page.getByTestId('slice-label');
    await expect.poll(() => labels.count()).toBe(2);
    // Both days have 3 mm slices numbered alike, so the same position is the same slice number.
    await expect.poll(() => labels.nth(1).textContent()).toContain('#7 · 21.0 mm');
    // The checkbox has the focus (keys typed into fields are not shortcuts): scroll with the wheel, the
    // mouse put over the canvas before each turn (a wheel turned where the layout has since moved it once
    // missed the canvas here).
    const wheel = async (deltaY: number) => {
      const box = (await page.getByTestId('viewer-canvas').first().boundingBox())!;
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.wheel(0, deltaY);
    };
    await wheel(120);
    await expect.poll(() => labels.nth(1).textContent()).toContain('#8 · 24.0 mm');
    await wheel(-120);
    await expect.poll(() => labels.nth(1).textContent()).toContain('#7 · 21.0 mm');
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '04-two-days.png') });
    await page.getByTestId('compare').uncheck();
  });

  it('fine-tunes on approved scans with live curves, then activates and rolls back the new model', async () => {
    // Approve one scan of each patient: 24 reviewed slices, one patient held out for validation.
    for (const scanId of ['case7_day1', 'case8_day1']) {
      await page.getByTestId(`scan-${scanId}`).click();
      await expect
        .poll(() => page.locator('.viewer-label').first().textContent())
        .toContain(scanId.replace('_', ' · '));
      await page.getByTestId('approve-scan').click();
      // Only the middle slice was shown: approve all 12 anyway (ui-review covers approving only those shown).
      await page.getByTestId('approve-all').click();
      await expect.poll(() => page.getByTestId('slice-state').first().textContent()).toContain('approved');
    }
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-epochs').fill('4');
    await page.getByTestId('train-start').click();
    const job = page.getByTestId('train-job');
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 120_000 }).toBe('done');
    await page.getByTestId('dice-chart').waitFor();
    await page.getByTestId('loss-chart').waitFor();
    const result = page.getByTestId('train-result');
    await expect.poll(() => result.textContent()).toContain('trained on 24 slices');
    // Named by date and data; the model in use and the new one scored on the same held-out slices.
    expect(await result.textContent()).toMatch(
      /fine-tune \d{4}-\d{2}-\d{2}, 24 slices of case7_day1, case8_day1/,
    );
    await page.getByTestId('train-comparison').waitFor();
    expect(await page.getByTestId('dice-current').textContent()).toMatch(/^\s*(\d\.\d{3}|–)\s*$/);
    expect(await page.getByTestId('dice-candidate').textContent()).toMatch(/^\s*(\d\.\d{3}|–)\s*$/);
    const recommended = await page.getByTestId('train-recommendation').getAttribute('data-recommend');
    expect(await page.getByTestId('train-activate').textContent()).toContain(
      recommended === 'true' ? 'Use the new model' : 'Use the new model anyway',
    );
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, '05-fine-tune.png') });

    // Use the new model, then go back to the one before it.
    await page.getByTestId('train-activate').click();
    await page.getByTestId('train-rollback').waitFor();
    const models = page.getByTestId('models');
    await expect.poll(() => models.locator('li.active .model-id').textContent()).toContain('fine-tune');
    await page.getByTestId('train-rollback').click();
    await expect.poll(() => models.locator('li.active .model-id').textContent()).toContain('tiny-e2e');
    await page.getByTestId('train-activate').waitFor();
  });
});
