/**
 * Packs the desktop app with electron-builder (`--dir`, Linux) against a stand-in Electron folder (the real
 * binary cannot be downloaded here) and checks the packed app: the built main (with the worker-thread
 * entries beside it: Electron reads worker scripts from app.asar), preload and renderer in app.asar, the
 * tfjs wasm binaries and the models outside it, the demo patient in resources. Also reads the config
 * statically for the three platforms' targets. Packing takes ~30 s; set TRACTUS_SKIP_PACK=1 to skip it.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rendererConfig } from '../../renderer/vite.shared';
import { REPO_ROOT } from '../helpers/shared-data';

/** The build's files the packed app needs: main bundle, worker-thread entries beside it, preload. */
const BUILT = [
  'out/main/index.js',
  'out/main/infer-worker.js',
  'out/main/train-worker.js',
  'out/preload/index.cjs',
];

const WASM = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
];

/** File paths inside an asar archive (format: pickled header size, pickled JSON header). */
async function asarFiles(file: string): Promise<string[]> {
  const buf = await readFile(file);
  const headerPickleSize = buf.readUInt32LE(4);
  const jsonLength = buf.readUInt32LE(12);
  const header = JSON.parse(buf.subarray(16, 16 + jsonLength).toString('utf8')) as AsarDir;
  expect(16 + jsonLength).toBeLessThanOrEqual(8 + headerPickleSize);
  const out: string[] = [];
  const walk = (dir: AsarDir, prefix: string) => {
    for (const [name, entry] of Object.entries(dir.files)) {
      if ('files' in entry) walk(entry, `${prefix}${name}/`);
      else out.push(`${prefix}${name}`);
    }
  };
  walk(header, '');
  return out;
}
interface AsarDir {
  files: Record<string, AsarDir | { size: number; unpacked?: boolean }>;
}

describe('renderer build output (static)', () => {
  it('is <repo>/out/renderer for electron-vite and vite alike: an absolute path', () => {
    // electron-vite resolves a relative outDir against the working directory, vite against the renderer root.
    const outDir = rendererConfig().build?.outDir ?? '';
    expect(path.isAbsolute(outDir)).toBe(true);
    expect(path.resolve(outDir)).toBe(path.join(REPO_ROOT, 'out/renderer'));
  });
});

describe('electron-builder.yml (static)', () => {
  const yml = readFileSync(path.join(REPO_ROOT, 'electron-builder.yml'), 'utf8');
  it('targets AppImage and deb, NSIS, and dmg', () => {
    expect(yml).toMatch(/linux:\s*\n\s*target: \[AppImage, deb\]/);
    expect(yml).toMatch(/win:\s*\n\s*target: \[nsis\]/);
    expect(yml).toMatch(/mac:\s*\n\s*target: \[dmg\]/);
  });
  it('keeps models and the tfjs wasm binaries out of app.asar', () => {
    const unpack = /asarUnpack:\n((?:\s+- .+\n)+)/.exec(yml)![1]!;
    expect(unpack).toContain('models/**');
    expect(unpack).toContain('node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm');
  });
});

const skipPack = process.env.TRACTUS_SKIP_PACK === '1';
if (skipPack) console.warn('SKIPPED pack test: TRACTUS_SKIP_PACK=1');

describe.skipIf(skipPack)('electron-builder --dir with a stand-in Electron', () => {
  let tmp = '';
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('packs an app holding the build, the wasm binaries and the models outside the asar', async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-pack-'));
    const fakeDist = path.join(tmp, 'electron-dist');
    await mkdir(path.join(fakeDist, 'resources'), { recursive: true });
    await writeFile(path.join(fakeDist, 'electron'), '#!/bin/sh\necho stand-in electron\n');
    await chmod(path.join(fakeDist, 'electron'), 0o755);
    await writeFile(path.join(fakeDist, 'LICENSE'), 'stand-in');

    const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1', CI: '1' };
    if (!BUILT.every((f) => existsSync(path.join(REPO_ROOT, f)))) {
      const build = spawnSync(
        process.execPath,
        ['node_modules/electron-vite/bin/electron-vite.js', 'build'],
        {
          cwd: REPO_ROOT,
          env,
          encoding: 'utf8',
        },
      );
      expect(build.status, build.stderr).toBe(0);
    }
    const output = path.join(tmp, 'dist');
    const res = spawnSync(
      process.execPath,
      [
        'node_modules/electron-builder/cli.js',
        '--dir',
        '--linux',
        '--publish',
        'never',
        `-c.electronDist=${fakeDist}`,
        `-c.directories.output=${output}`,
      ],
      { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 240_000 },
    );
    expect(res.status, `${res.stdout}\n${res.stderr}`).toBe(0);

    const resources = path.join(output, 'linux-unpacked', 'resources');
    const files = await asarFiles(path.join(resources, 'app.asar'));
    for (const f of [...BUILT, 'out/renderer/index.html', 'package.json']) {
      expect(files).toContain(f);
    }
    const unpacked = path.join(resources, 'app.asar.unpacked');
    for (const w of WASM) {
      expect(existsSync(path.join(unpacked, 'node_modules/@tensorflow/tfjs-backend-wasm/dist', w))).toBe(
        true,
      );
    }
    if (existsSync(path.join(REPO_ROOT, 'models/default/model.json'))) {
      expect(existsSync(path.join(unpacked, 'models/default/model.json'))).toBe(true);
    }
    if (existsSync(path.join(REPO_ROOT, 'data/demo'))) {
      expect(existsSync(path.join(resources, 'data/demo'))).toBe(true);
    }
    expect(existsSync(path.join(output, 'linux-unpacked', 'tractus'))).toBe(true);
  }, 300_000);
});
