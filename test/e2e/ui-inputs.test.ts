/**
 * Damaged inputs in real Chromium against `tractus serve`: a COCO dataset with two listed images missing
 * still opens (only their scan is affected), the problems are listed once, grouped by reason, and the
 * viewer on a missing slice says why instead of "Loading…" forever.
 */
import { mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  ensureFreshRenderer,
  hasChromium,
  startServe,
  type RunningServer,
} from './helpers';
import { writeTinyDataset } from './tiny-dataset';

const suite = hasChromium ? describe : describe.skip;
if (!hasChromium) console.warn(`SKIPPED e2e: ${CHROMIUM} not found (apt-get install -y chromium)`);

suite('damaged inputs in Chromium (tractus serve)', () => {
  let tmp: string;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let missing: string[];

  beforeAll(async () => {
    await ensureFreshRenderer();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-e2e-inputs-'));
    const data = path.join(tmp, 'data');
    const [day1, day8] = await writeTinyDataset(data, 6, 64, 1);
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
    server = await startServe([
      '--data',
      path.join(data, 'dataset.coco.json'),
      '--home',
      path.join(tmp, 'home'),
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on('pageerror', (e) => console.error('page error:', e.message));
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('opens, lists the two missing files as one grouped line, and shows why the slice cannot be loaded', async () => {
    await page.goto(server.url);
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
