/**
 * The built CLI (bin/cli-bundle.mjs → out/cli): plain Node runs it without tsx, its `segment` writes the
 * same files as the TypeScript sources on the bundled demo scans (worker threads from the build included),
 * and bin/tractus.mjs's check sends a run to the sources as soon as one input differs from the build.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/shared-data';
// @ts-expect-error -- plain JavaScript (bin/tractus.mjs loads it before tsx); its API is checked below.
import { buildCliBundle, currentBundle } from '../../bin/cli-bundle.mjs';

const build = buildCliBundle as (o: { outDir: string }) => Promise<{ outDir: string; files: number }>;
const current = currentBundle as (dir: string) => { entry: URL } | { stale: string };

/** Exit code, stdout and stderr of `node args…` run in the repository. */
function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the built CLI', () => {
  // Two levels below the repository, like out/cli: the code finds ../../models from there.
  const scratch = path.join(REPO_ROOT, `.scratch-cli-bundle-${process.pid}`);
  const dir = path.join(scratch, 'cli');
  let tmp = '';

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-cli-bundle-'));
    const built = await build({ outDir: dir });
    expect(built.files).toBeGreaterThan(50);
  }, 60_000);

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
    await rm(tmp, { recursive: true, force: true });
  });

  it('segments the demo scans on worker threads exactly as the sources do', async () => {
    const found = current(dir);
    expect(found).toHaveProperty('entry');
    const entry = 'entry' in found ? found.entry.pathname : '';
    const segment = ['segment', 'data/demo', '--workers', '2', '--json'];
    const fromBuild = await run([entry, ...segment, '--out', path.join(tmp, 'build')]);
    expect(fromBuild.code, fromBuild.stderr).toBe(0);
    const fromSource = await run([
      '--import',
      'tsx',
      'main/cli/index.ts',
      ...segment,
      '--out',
      path.join(tmp, 'src'),
    ]);
    expect(fromSource.code, fromSource.stderr).toBe(0);
    const [b, s] = [fromBuild, fromSource].map(
      (r) => JSON.parse(r.stdout) as { ok: number; workers: number },
    );
    expect([b!.ok, b!.workers]).toEqual([2, 2]);
    expect([s!.ok, s!.workers]).toEqual([2, 2]);
    for (const file of ['predictions.json', 'submission.csv', 'images.coco.json']) {
      expect(readFileSync(path.join(tmp, 'build', file), 'utf8'), file).toBe(
        readFileSync(path.join(tmp, 'src', file), 'utf8'),
      );
    }
  }, 120_000);

  it('is current until one of its inputs differs, and then says which', () => {
    const infoFile = path.join(dir, 'build-info.json');
    const original = readFileSync(infoFile, 'utf8');
    const info = JSON.parse(original) as { files: Record<string, string> };
    expect(Object.keys(info.files)).toContain('main/model/preprocess.ts');
    expect(Object.keys(info.files)).toContain('package-lock.json');
    expect(Object.keys(info.files).some((f) => f.includes('node_modules'))).toBe(false);
    try {
      writeFileSync(
        infoFile,
        JSON.stringify({ files: { ...info.files, 'main/core/ids.ts': '0'.repeat(64) } }),
      );
      expect(current(dir)).toEqual({ stale: 'main/core/ids.ts changed since the build' });
      writeFileSync(infoFile, JSON.stringify({ files: { ...info.files, 'main/gone.ts': '0'.repeat(64) } }));
      expect(current(dir)).toEqual({ stale: 'main/gone.ts is gone since the build' });
    } finally {
      writeFileSync(infoFile, original);
    }
    expect(current(dir)).toHaveProperty('entry');
    expect(current(path.join(scratch, 'nothing'))).toHaveProperty('stale');
  });

  it('bin/tractus.mjs runs the sources when told to, and doctor says which code ran', async () => {
    const r = await run(['bin/tractus.mjs', 'doctor', '--seconds', '0.05', '--json'], {
      TRACTUS_FROM_SOURCE: '1',
    });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { code: string; tractus: string };
    expect(report.code).toBe('sources through tsx (TRACTUS_FROM_SOURCE=1)');
    expect(report.tractus).toMatch(/^\d+\.\d+\.\d+/);
  }, 60_000);
});
