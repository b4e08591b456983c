// Plain JavaScript on purpose: bundle-workers.test.ts runs this same job on the TypeScript sources (under
// vitest) and, as `node bundle-workers-job.mjs <out/main> <job.json> <result.json>`, on the electron-vite
// build in plain Node (no tsx), so both modes do exactly the same steps.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import workerThreads from 'node:worker_threads';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

/**
 * Inference on a 2-worker pool kept the way the app keeps it, then two data-parallel steps on 2 workers;
 * plain arrays out.
 */
export async function runParallelJob(api, job) {
  const keeper = api.keepInferencePool({ idleMs: 60_000, workers: () => 2 });
  let inferWorkers = 0;
  let probs;
  try {
    probs = await keeper.use(job.modelDir, 'wasm', undefined, async (pool) => {
      if (!pool) throw new Error('the inference workers did not start');
      inferWorkers = pool.size;
      const parts = await Promise.all(job.batches.map((b) => pool.predict(Float32Array.from(b.x), b.count)));
      return parts.map((p) => Array.from(p));
    });
  } finally {
    await keeper.close();
  }
  const trainer = await api.createDataParallelTrainer({
    workers: 2,
    backend: 'wasm',
    learningRate: 1e-2,
    model: { topology: job.topology },
    loss: 'segmentation',
    initialWeights: Float32Array.from(job.weights),
  });
  try {
    const losses = [];
    for (let i = 0; i < 2; i++) {
      const x = Float32Array.from(job.x);
      const y = Float32Array.from(job.y);
      losses.push((await trainer.step(x, job.xShape, y, job.yShape)).loss);
    }
    return {
      inferWorkers,
      trainWorkers: trainer.workers,
      trainBackend: trainer.backend,
      probs,
      losses,
      weights: Array.from(await trainer.weights(0)),
    };
  } finally {
    await trainer.close();
  }
}

/**
 * The bundle's shared chunks export under mangled names, but functions keep their declared names: find
 * them there. Entries are skipped (index.js imports electron; worker entries serve a parent port).
 */
export async function builtExports(mainDir, names) {
  const found = {};
  for (const file of await readdir(mainDir)) {
    if (!file.endsWith('.js') || ['index.js', 'infer-worker.js', 'train-worker.js'].includes(file)) continue;
    const mod = await import(pathToFileURL(path.join(mainDir, file)).href);
    for (const value of Object.values(mod)) {
      if (typeof value === 'function' && names.includes(value.name)) found[value.name] = value;
    }
  }
  return found;
}

/** Records what every Worker of this process is started from (a file URL, or 'eval' for inline code). */
function recordWorkerStarts() {
  const started = [];
  const Original = workerThreads.Worker;
  workerThreads.Worker = class extends Original {
    constructor(entry, options) {
      super(entry, options);
      started.push(options?.eval ? 'eval' : String(entry));
    }
  };
  // Modules importing { Worker } from 'node:worker_threads' see the wrapper from now on.
  syncBuiltinESMExports();
  return started;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [mainDir, jobFile, resultFile] = process.argv.slice(2);
  const workerStarts = recordWorkerStarts();
  const wanted = ['keepInferencePool', 'createDataParallelTrainer'];
  const api = await builtExports(mainDir, wanted);
  const missing = wanted.filter((name) => !api[name]);
  if (missing.length > 0) throw new Error(`not found in the built ${mainDir}: ${missing.join(', ')}`);
  const job = JSON.parse(await readFile(jobFile, 'utf8'));
  const result = await runParallelJob(api, job);
  await writeFile(resultFile, JSON.stringify({ ...result, found: Object.keys(api).sort(), workerStarts }));
}
