/**
 * The "Review first" list in real Chromium against `tractus serve`: after a model run the review panel lists
 * the slices the model was least sure of, most uncertain first, and a click goes to that slice.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SCREENSHOT_DIR, chromiumSuite, openE2eSession, type E2eSession } from './helpers';

const suite = chromiumSuite();

suite('review-first list in Chromium (tractus serve)', () => {
  let e2e: E2eSession;
  let page: Page;

  beforeAll(async () => {
    e2e = await openE2eSession({
      tmpPrefix: 'tractus-e2e-review-first-',
      dataset: { slices: 12, size: 96 },
      // Untrained: its probability maps are far from 0 and 1, so every slice has some uncertainty.
      tinyModel: true,
      viewport: { width: 1920, height: 1080 },
      // Playwright's 30 s default is too short when training shares the 2 cores (limits, not timings).
      defaultTimeout: 120_000,
      navigationTimeout: 120_000,
    });
    page = e2e.page;
  }, 600_000); // a renderer build and the server start, on a 2-core machine shared with training

  afterAll(async () => {
    await e2e?.close();
  });

  it('lists the most uncertain slices of the run after segmenting and goes to one on click', async () => {
    await page.goto(e2e.server.url);
    await page.getByTestId('scan-case7_day1').waitFor();
    const label = page.getByTestId('slice-label');
    await expect.poll(() => label.textContent()).toContain('7 / 12');
    // Only imported ground truth so far: no model run, no list.
    expect(await page.getByTestId('review-first').count()).toBe(0);

    // Keep the truth as the working contour: the list then comes from the newest run.
    await page.getByTestId('segment-scan').click();
    await page.getByTestId('replace-layer').click();
    const job = page.getByTestId('segment-job');
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 120_000 }).toBe('done');

    const panel = page.getByTestId('review-first');
    await panel.waitFor({ timeout: 30_000 });
    const buttons = panel.locator('button');
    const n = await buttons.count();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(10);
    const entries: Array<{ slice: number; u: number }> = [];
    for (let k = 0; k < n; k++) {
      const text = (await buttons.nth(k).textContent()) ?? '';
      const m = /Slice (\d+)\s+([\d.]+)/.exec(text);
      expect(m, text).not.toBeNull();
      entries.push({ slice: Number(m![1]), u: Number(m![2]) });
    }
    // most uncertain first, each slice once, uncertainties in (0, 1]
    for (let k = 1; k < n; k++) expect(entries[k]!.u).toBeLessThanOrEqual(entries[k - 1]!.u);
    expect(new Set(entries.map((e) => e.slice)).size).toBe(n);
    for (const e of entries) {
      expect(e.slice).toBeGreaterThanOrEqual(1);
      expect(e.slice).toBeLessThanOrEqual(12);
    }
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'review-first-01-list.png') });

    // Click the last entry (not the slice shown now, unless it is): the viewer goes there.
    const target = entries.at(-1)!;
    await buttons.nth(n - 1).click();
    await expect.poll(() => label.textContent()).toContain(`${target.slice} / 12`);
    expect(await buttons.nth(n - 1).getAttribute('class')).toContain('on');
  }, 600_000);
});
