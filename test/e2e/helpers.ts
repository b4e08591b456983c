/** Shared set-up of the browser tests: a built renderer, a running `tractus serve`, a headless Chromium. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { REPO_ROOT } from '../helpers/shared-data';
import { activateTinyModel, writeTinyDataset } from './tiny-dataset';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results/e2e');

export interface RunningServer {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Start `tractus serve --port 0` and resolve with the URL it prints (it builds the renderer if needed). */
export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'main/cli/index.ts', 'serve', '--port', '0', ...args],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`serve did not print a URL in time\n${stderr}`)), 90_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(stdout)?.[0];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        process: child,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}\n${stderr}`));
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Build out/renderer with vite when it is missing or older than any renderer/ or preload/ source. */
export async function ensureFreshRenderer(): Promise<void> {
  const index = path.join(REPO_ROOT, 'out/renderer/index.html');
  const sources = Math.max(
    newestMtime(path.join(REPO_ROOT, 'renderer')),
    newestMtime(path.join(REPO_ROOT, 'preload')),
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const vite = await import('vite');
  await vite.build({ configFile: path.join(REPO_ROOT, 'renderer/vite.config.ts'), logLevel: 'warn' });
}

/** `describe` where Chromium is installed; elsewhere `describe.skip`, with a warning that says how to get it. */
export function chromiumSuite() {
  if (!hasChromium) console.warn(`SKIPPED e2e: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return hasChromium ? describe : describe.skip;
}

export interface E2eSessionOptions {
  /** Prefix of the temporary folder in os.tmpdir(), e.g. 'tractus-e2e-review-'. */
  tmpPrefix: string;
  /** The tiny synthetic dataset written to <tmp>/data (writeTinyDataset's slices, size and patients). */
  dataset: { slices: number; size: number; patients?: number };
  /** More set-up once the dataset is written (given its scan folders), before the model and the server. */
  prepare?: (tmp: string, scanDirs: string[]) => Promise<void>;
  /** Register and activate the tiny model in <tmp>/home (activateTinyModel). */
  tinyModel?: boolean;
  /** Arguments of `tractus serve`; by default `--data <tmp>/data --home <tmp>/home`. */
  serveArgs?: (tmp: string) => string[];
  viewport: { width: number; height: number };
  /** Playwright's default timeout (actions and waits); its own 30 s when not given. */
  defaultTimeout?: number;
  /** Playwright's default navigation timeout; the default timeout when not given. */
  navigationTimeout?: number;
}

export interface E2eSession {
  tmp: string;
  server: RunningServer;
  browser: Browser;
  page: Page;
  /** Close the browser, stop the server, remove the temporary folder. */
  close(): Promise<void>;
}

/**
 * The set-up of a browser test suite: a fresh renderer build, a temporary folder with the tiny dataset (and
 * the tiny model), `tractus serve` on it, and a headless Chromium page that logs the page's errors. If a
 * step fails, what was started is closed again before the error is thrown.
 */
export async function openE2eSession(opts: E2eSessionOptions): Promise<E2eSession> {
  let tmp: string | undefined;
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
  try {
    await ensureFreshRenderer();
    tmp = await mkdtemp(path.join(os.tmpdir(), opts.tmpPrefix));
    const { slices, size, patients = 1 } = opts.dataset;
    const scanDirs = await writeTinyDataset(path.join(tmp, 'data'), slices, size, patients);
    await opts.prepare?.(tmp, scanDirs);
    if (opts.tinyModel) await activateTinyModel(path.join(tmp, 'home'), tmp);
    server = await startServe(
      opts.serveArgs?.(tmp) ?? ['--data', path.join(tmp, 'data'), '--home', path.join(tmp, 'home')],
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: opts.viewport });
    page.on('pageerror', (e) => console.error('page error:', e.message));
    if (opts.defaultTimeout !== undefined) page.setDefaultTimeout(opts.defaultTimeout);
    if (opts.navigationTimeout !== undefined) page.setDefaultNavigationTimeout(opts.navigationTimeout);
    return { tmp, server, browser, page, close };
  } catch (e) {
    await close().catch(() => undefined); // the set-up's error is the one to report
    throw e;
  }
}
