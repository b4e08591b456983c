/**
 * The worker threads in the built app: electron-vite builds the main process into a scratch folder, then
 * (1) the layout the worker-entry resolver relies on holds (flat folder, fixed entry names), and (2) plain
 * Node, without tsx, runs an inference pool and data-parallel training steps from the BUILT code and worker
 * files, with the same results as the TypeScript sources give in this process.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/model/backend/select';
import { loadModel } from '../../main/model/model-io';
import { keepInferencePool } from '../../main/model/parallel/infer-pool-keeper';
import { createDataParallelTrainer } from '../../main/model/parallel/data-parallel';
import { WORKER_ENTRIES, workerEntryUrl } from '../../main/model/parallel/worker-entries';
import { REPO_ROOT } from '../helpers/shared-data';
import { saveTinyVariedModel } from './parallel-infer-fixtures';
// @ts-expect-error -- plain JavaScript helper (it must run in plain Node too); its API is checked below.
import { runParallelJob } from './bundle-workers-job.mjs';

interface JobResult {
  inferWorkers: number;
  trainWorkers: number;
  trainBackend: string;
  probs: number[][];
  losses: number[];
  weights: number[];
  found?: string[];
  workerStarts?: string[];
}
const runJob = runParallelJob as (
  api: { keepInferencePool: unknown; createDataParallelTrainer: unknown },
  job: unknown,
) => Promise<JobResult>;

const ELECTRON_VITE = path.join(REPO_ROOT, 'node_modules/electron-vite/bin/electron-vite.js');
const canBuild = existsSync(ELECTRON_VITE);
if (!canBuild) console.warn(`SKIPPED bundle-workers test: ${ELECTRON_VITE} is not installed`);

/** Deterministic values in [-1, 1] (no random numbers: both modes and every run see the same data). */
const wave = (n: number, f: number) => Array.from({ length: n }, (_, k) => Math.sin(k * f + 0.3));

describe.skipIf(!canBuild)('worker threads in the electron-vite build', () => {
  let scratch = '';
  let mainDir = '';

  beforeAll(() => {
    // Inside the repo (gitignored .scratch-*) so the build's bare imports resolve to its node_modules.
    scratch = path.join(REPO_ROOT, `.scratch-bundle-workers-${process.pid}`);
    const build = spawnSync(process.execPath, [ELECTRON_VITE, 'build', '--outDir', scratch], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' },
      timeout: 180_000,
    });
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
    mainDir = path.join(scratch, 'main');
  });
  afterAll(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('emits the worker entries under fixed names beside every main-process file', async () => {
    const entries = await readdir(mainDir, { withFileTypes: true });
    expect(entries.filter((e) => e.isDirectory()).map((e) => e.name)).toEqual([]);
    const files = entries.map((e) => e.name).filter((f) => f.endsWith('.js'));
    for (const name of WORKER_ENTRIES) expect(files).toContain(`${name}.js`);
    // Whichever bundled file the resolver lands in, it finds the built workers (not .ts sources).
    for (const file of files) {
      for (const name of WORKER_ENTRIES) {
        const url = workerEntryUrl(name, pathToFileURL(path.join(mainDir, file)).href);
        expect(fileURLToPath(url)).toBe(path.join(mainDir, `${name}.js`));
      }
    }
  });

  it('runs an inference pool and data-parallel training from the built files in plain Node, as from source', async () => {
    await initBackend('wasm');
    const modelDir = await saveTinyVariedModel();
    const { model } = await loadModel(modelDir);
    const size = 32;
    const job = {
      modelDir,
      batches: [3, 2].map((count, b) => ({ count, x: wave(count * size * size * 3, 0.37 + b) })),
      topology: model.toJSON(null, false),
      weights: model.getWeights().flatMap((w) => Array.from(w.dataSync())),
      x: wave(3 * size * size * 3, 0.21),
      xShape: [3, size, size, 3],
      y: wave(3 * size * size * 3, 0.11).map((v) => (v > 0.3 ? 1 : 0)),
      yShape: [3, size, size, 3],
    };
    model.dispose();
    const jobFile = path.join(scratch, 'job.json');
    const resultFile = path.join(scratch, 'result.json');
    await writeFile(jobFile, JSON.stringify(job));

    // Plain Node: no tsx loader, whatever options this test process runs with.
    const env = { ...process.env, NODE_OPTIONS: '' };
    const helper = fileURLToPath(new URL('./bundle-workers-job.mjs', import.meta.url));
    await promisify(execFile)(process.execPath, [helper, mainDir, jobFile, resultFile], {
      cwd: REPO_ROOT,
      env,
      timeout: 120_000,
    });
    const built = JSON.parse(await readFile(resultFile, 'utf8')) as JobResult;
    const source = await runJob({ keepInferencePool, createDataParallelTrainer }, job);

    expect(built.found).toEqual(['createDataParallelTrainer', 'keepInferencePool']);
    expect([built.inferWorkers, built.trainWorkers, built.trainBackend]).toEqual([2, 2, 'wasm']);
    // The built workers ran, not the .ts sources through a tsx bootstrap (an inline 'eval' worker).
    const builtWorker = (name: string) => pathToFileURL(path.join(mainDir, `${name}.js`)).href;
    expect(built.workerStarts).toEqual([
      ...Array<string>(2).fill(builtWorker('infer-worker')),
      ...Array<string>(2).fill(builtWorker('train-worker')),
    ]);
    expect(source.probs.map((p) => p.length)).toEqual([3 * size * size * 3, 2 * size * size * 3]);
    // Same code on the same backend in both modes: the inference is bit-identical, and so are the steps.
    expect(built.probs).toEqual(source.probs);
    expect(built.losses).toEqual(source.losses);
    expect(built.losses.every(Number.isFinite)).toBe(true);
    expect(built.weights).toEqual(source.weights);
    // The steps did change the weights (the comparison above is not of two untouched copies).
    expect(built.weights).not.toEqual(job.weights.map((v) => Math.fround(v)));
  });
});
