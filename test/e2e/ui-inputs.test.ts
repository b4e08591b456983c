/**
 * Damaged inputs in real Chromium against `tractus serve`: a COCO dataset with two listed images missing
 * still opens (only their scan is affected), the problems are listed once, grouped by reason, and the
 * viewer on a missing slice says why instead of "Loading…" forever.
 */
import { readdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumSuite, openE2eSession, type E2eSession } from './helpers';

const suite = chromiumSuite();

suite('damaged inputs in Chromium (tractus serve)', () => {
  let e2e: E2eSession;
  let page: Page;
  let missing: string[];

  beforeAll(async () => {
    e2e = await openE2eSession({
      tmpPrefix: 'tractus-e2e-inputs-',
      dataset: { slices: 6, size: 64, patients: 1 },
      prepare: async (tmp, [day1, day8]) => {
        const data = path.join(tmp, 'data');
        // A COCO dataset listing every slice of both days; slices 4 and 5 of day 1 are then deleted.
        const images: Array<{ id: number; file_name: string; width: number; height: number }> = [];
        for (const scanDir of [day1!, day8!]) {
          const scans = path.join(scanDir, 'scans');
          for (const name of (await readdir(scans)).sort()) {
            const file_name = path.relative(data, path.join(scans, name)).split(path.sep).join('/');
            images.push({ id: images.length + 1, file_name, width: 64, height: 64 });
          }
        }
        missing = images.slice(3, 5).map((i) => path.join(data, i.file_name));
        for (const file of missing) await unlink(file);
        await unlink(path.join(data, 'train.csv'));
        await writeFile(
          path.join(data, 'dataset.coco.json'),
          JSON.stringify({ images, annotations: [], categories: [] }),
        );
      },
      serveArgs: (tmp) => [
        '--data',
        path.join(tmp, 'data', 'dataset.coco.json'),
        '--home',
        path.join(tmp, 'home'),
      ],
      viewport: { width: 1600, height: 1000 },
    });
    page = e2e.page;
  }, 600_000);

  afterAll(async () => {
    await e2e?.close();
  });

  it('opens, lists the two missing files as one grouped line, and shows why the slice cannot be loaded', async () => {
    await page.goto(e2e.server.url);
    await page.getByTestId('scan-case7_day1').waitFor();
    // the first scan opens on its middle slice (4 of 6): one of the missing files
    const error = page.getByTestId('slice-error').first();
    await error.waitFor();
    expect(await error.textContent()).toMatch(/cannot be shown: .*slice_0004.*file not found/);
    const warnings = page.getByTestId('dataset-warnings');
    await warnings.locator('summary').click();
    expect(await warnings.locator('li').allTextContents()).toEqual([
      `2 files: file not found; scan case7_day1 cannot be read whole; e.g. ${missing[0]}`,
    ]);
    expect(await warnings.locator('summary').textContent()).not.toContain('nothing was lost');
    // the other day is untouched
    await page.getByTestId('scan-case7_day8').click();
    await expect.poll(() => page.getByTestId('slice-error').count()).toBe(0);
  }, 180_000);
});
