/** Shared set-up of the browser tests: a built renderer, a running `tractus serve`, a headless Chromium. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/shared-data';

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
