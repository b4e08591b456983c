/**
 * Viewer habits of OHIF and 3D Slicer in real Chromium against `tractus serve`: navigation is the default
 * tool (left-drag = window/level, no accidental edit), editing tools show they are on, orientation letters,
 * scale bar and patient/study/series/slice overlay, coronal and sagittal reformats with the contours and a
 * linked crosshair, W/L presets and typed values, Home/End, and a Segment panel that neither flashes
 * "running 0/0" nor shows the previous folder's job.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SCREENSHOT_DIR, chromiumSuite, openE2eSession, type E2eSession } from './helpers';
import { writeTinyDataset } from './tiny-dataset';

const suite = chromiumSuite();

/** Pixels of a reformat's canvas whose colour is an organ's (red, green or yellow over grey). */
async function organPixels(page: Page, plane: 'coronal' | 'sagittal'): Promise<number> {
  // A string, not a function: this file is type-checked without the DOM library.
  return page.evaluate<number>(`(() => {
    const c = document.querySelector('[data-testid="reformat-${plane}"] canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      if (Math.max(r, g) > b + 60) n++;
    }
    return n;
  })()`);
}

/** The number N of the "Slice N / total" label of the main viewer. */
async function sliceNumber(page: Page): Promise<number> {
  const text = (await page.getByTestId('slice-label').first().textContent()) ?? '';
  return Number(/(\d+) \//.exec(text)?.[1]);
}

suite('viewer habits in Chromium (tractus serve)', () => {
  let e2e: E2eSession;
  let page: Page;

  beforeAll(async () => {
    e2e = await openE2eSession({
      tmpPrefix: 'tractus-e2e-habits-',
      dataset: { slices: 12, size: 96, patients: 1 },
      // The folder the last test opens instead.
      prepare: async (tmp) => {
        await writeTinyDataset(path.join(tmp, 'other'), 6, 64, 1);
      },
      tinyModel: true,
      viewport: { width: 1600, height: 1000 },
      // Page loads and clicks wait for a CPU shared with training runs: Playwright's 30 s is too short there.
      defaultTimeout: 180_000,
    });
    page = e2e.page;
    // Building the renderer and starting the server take minutes when the 2 cores are shared.
  }, 600_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('navigates by default: left-drag sets window/level and edits nothing; editing tools show they are on', async () => {
    await page.goto(e2e.server.url);
    await page.getByTestId('scan-case7_day1').waitFor();
    await expect.poll(() => page.getByTestId('slice-label').textContent()).toContain('7 / 12');
    await expect.poll(() => page.getByTestId('tool-navigate').getAttribute('class')).toContain('on');
    expect(await page.getByTestId('editing-on').count()).toBe(0);
    const width = page.getByTestId('wl-width');
    const before = Number(await width.inputValue());
    const box = (await page.getByTestId('viewer-canvas').boundingBox())!;
    const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 80, cy + 30, { steps: 6 });
    await page.mouse.up();
    await expect.poll(async () => Number(await width.inputValue())).toBeGreaterThan(before);
    expect(await page.getByTestId('slice-state').textContent()).toContain('auto');
    expect(await page.getByTestId('save-status').getAttribute('class')).toContain('save-saved');

    await page.getByTestId('tool-brush').click();
    await expect.poll(() => page.getByTestId('editing-on').textContent()).toContain('Brush on');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('editing-on').count()).toBe(0);
    await expect.poll(() => page.getByTestId('tool-navigate').getAttribute('class')).toContain('on');
  }, 300_000);

  it('prints orientation letters, a scale bar and the patient / study / series / slice lines', async () => {
    const viewer = page.getByTestId('viewer-canvas');
    await expect.poll(() => viewer.getByTestId('orient-left').textContent()).toBe('R');
    expect(await viewer.getByTestId('orient-right').textContent()).toBe('L');
    expect(await viewer.getByTestId('orient-top').textContent()).toBe('A');
    expect(await viewer.getByTestId('orient-bottom').textContent()).toBe('P');
    const topLeft = (await viewer.getByTestId('overlay-top-left').textContent()) ?? '';
    expect(topLeft).toContain('Patient case7');
    expect(topLeft).toContain('Study day1');
    expect(await viewer.getByTestId('overlay-top-right').textContent()).toContain('case7_day1');
    const bottomLeft = (await viewer.getByTestId('overlay-bottom-left').textContent()) ?? '';
    expect(bottomLeft).toContain('Im 7/12');
    expect(bottomLeft).toContain('21.0 mm');
    const bar = viewer.getByTestId('scale-bar');
    expect(Number(await bar.getAttribute('data-mm'))).toBeGreaterThan(0);
    expect(await bar.textContent()).toMatch(/\d+ (mm|cm)/);
  });

  it('W/L presets nest (Soft tissue inside Auto) and a typed width and level are applied', async () => {
    const width = page.getByTestId('wl-width');
    await page.getByTestId('preset-auto').click();
    const auto = Number(await width.inputValue());
    await page.getByTestId('preset-soft').click();
    await expect.poll(async () => Number(await width.inputValue())).toBeLessThan(auto);
    await width.fill('100');
    await width.press('Enter');
    const level = page.getByTestId('wl-level');
    await level.fill('50');
    await level.press('Enter');
    await expect.poll(() => page.locator('.viewer-foot').first().textContent()).toContain('W 100 / L 50');
    await page.getByTestId('preset-auto').click();
  });

  it('Home and End go to the first and last slice', async () => {
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('End');
    await expect.poll(() => page.getByTestId('slice-label').textContent()).toContain('12 / 12');
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByTestId('slice-label').textContent()).toContain('1 / 12');
    await page.getByTestId('slice-slider').fill('6');
    await expect.poll(() => page.getByTestId('slice-label').textContent()).toContain('7 / 12');
  });

  it('shows coronal and sagittal reformats with the contours, head up, linked to the axial slice', async () => {
    await page.getByTestId('reformats').check();
    const coronal = page.getByTestId('reformat-coronal');
    const sagittal = page.getByTestId('reformat-sagittal');
    await expect.poll(() => coronal.getByTestId('orient-top').textContent()).toBe('S');
    expect(await coronal.getByTestId('orient-left').textContent()).toBe('R');
    expect(await coronal.getByTestId('orient-bottom').textContent()).toBe('I');
    expect(await sagittal.getByTestId('orient-left').textContent()).toBe('A');
    expect(await sagittal.getByTestId('orient-right').textContent()).toBe('P');
    // The ground-truth organs of the phantom show through the reformats.
    await expect.poll(() => organPixels(page, 'coronal')).toBeGreaterThan(20);
    await expect.poll(() => organPixels(page, 'sagittal')).toBeGreaterThan(20);

    // A click on the coronal view moves the axial slice; higher on screen is nearer the head (UW-Madison
    // numbers slices head to feet, so a smaller number).
    const box = (await coronal.locator('canvas').boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => sliceNumber(page)).toBeGreaterThan(4);
    const middle = await sliceNumber(page);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2 - box.height / 6);
    await expect.poll(() => sliceNumber(page)).toBeLessThan(middle);

    // A click on the axial slice moves the coronal plane to the clicked row.
    const before = await coronal.getByTestId('overlay-bottom-left').textContent();
    const axial = (await page.getByTestId('viewer-canvas').boundingBox())!;
    await page.mouse.click(axial.x + axial.width / 2, axial.y + axial.height / 2 + axial.height / 5);
    await expect.poll(() => coronal.getByTestId('overlay-bottom-left').textContent()).not.toBe(before);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'habits-01-reformats.png') });
    await page.getByTestId('reformats').uncheck();
  });

  it('a segmentation job never shows 0/0, and another folder does not show its "done"', async () => {
    // Record every text the job line ever shows, however briefly.
    await page.evaluate(`(() => {
      window.__jobTexts = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-testid="segment-job-text"]');
        if (el) window.__jobTexts.push(el.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    })()`);
    await page.getByTestId('segment-scan').click();
    // The scan has imported ground truth, so the app may ask first: keep it, add the run as a layer.
    const asked = page.getByTestId('replace-layer');
    const job = page.getByTestId('segment-job');
    await Promise.race([asked.waitFor(), job.waitFor()]);
    if (await asked.isVisible()) await asked.click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 240_000 }).toBe('done');
    await expect.poll(() => page.getByTestId('segment-job-text').textContent()).toContain('12/12');
    const texts = await page.evaluate<string[]>('window.__jobTexts');
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.filter((t) => /\b0\/0\b/.test(t))).toEqual([]);

    page.once('dialog', (d) => void d.accept(path.join(e2e.tmp, 'other')));
    await page.getByTestId('open-folder').click();
    await expect.poll(() => page.getByTestId('slice-label').textContent()).toContain('/ 6');
    expect(await page.getByTestId('segment-job').count()).toBe(0);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'habits-02-other-folder.png') });
  }, 300_000);
});
