/**
 * The CLI built into plain JavaScript (out/cli/: the `tractus` entry, the worker threads' entries beside it,
 * shared chunks). From the TypeScript sources every `tractus` run, and every worker thread it starts, first
 * loads tsx and transpiles on the fly: about 0.9 s of each run (a 1-slice `segment` takes 1.9 s that way,
 * 0.85 s from the build). bin/tractus.mjs runs the build only while it is current: the build records a
 * hash of every project file that went into it (and of package-lock.json), and any difference sends the run
 * to the sources instead, so a checkout never runs stale code.
 *
 * Plain JavaScript (no tsx) because bin/tractus.mjs decides with it before anything is transpiled.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository (or installed package) root: bin/.. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/**
 * Two levels below ROOT, like the app's out/main: the code finds ../../models and the repository's other
 * parts from there (main/model/model-io.ts, main/ipc/paths.ts).
 */
export const BUNDLE_DIR = path.join(ROOT, 'out', 'cli');
export const BUNDLE_ENTRY = 'tractus.mjs';
const BUILD_INFO = 'build-info.json';

/**
 * Entry names → sources. The worker entries keep the names main/model/parallel/worker-entries.ts looks
 * for beside the running code (`.mjs` here).
 */
const ENTRIES = {
  tractus: 'main/cli/index.ts',
  'infer-worker': 'main/model/parallel/infer-worker.ts',
  'train-worker': 'main/model/parallel/train-worker.ts',
};

/**
 * Left to Node's own resolution: native or optional packages (loaded by dynamic import when present), the
 * development server's and the browser tests' tools, and Electron (never imported by the CLI's code).
 */
const EXTERNAL = [
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'vite',
  'playwright-core',
  'electron',
];

/**
 * CommonJS packages in an ES module bundle still call require() and read __dirname (tfjs-backend-wasm's
 * Emscripten glue does): give every chunk both, for its own location.
 */
const BANNER = [
  "import { createRequire as __tractusCreateRequire } from 'node:module';",
  "import { fileURLToPath as __tractusFileURLToPath } from 'node:url';",
  'const require = __tractusCreateRequire(import.meta.url);',
  'const __filename = __tractusFileURLToPath(import.meta.url);',
  "const __dirname = __tractusFileURLToPath(new URL('.', import.meta.url));",
].join(' ');

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * Bundles the CLI into `outDir` (replacing what was there) and records its inputs' hashes. `extraEntries`
 * (name → source) are built beside the CLI's own, sharing its chunks: the bench's driver that times the
 * pipeline as it ships (test/bench/pipeline-driver.ts).
 * @param {{ outDir?: string; extraEntries?: Record<string, string> }} [options]
 * @returns {Promise<{ outDir: string; files: number; bytes: number }>}
 */
export async function buildCliBundle({ outDir = BUNDLE_DIR, extraEntries = {} } = {}) {
  const esbuild = await import('esbuild');
  // Built beside the target, then moved into place: a failed build leaves the previous one intact.
  const temp = `${outDir}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  try {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: { ...ENTRIES, ...extraEntries },
      outdir: temp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      external: EXTERNAL,
      banner: { js: BANNER },
      metafile: true,
      logLevel: 'error',
    });
    // The project's own files decide whether the build is current; packages change with package-lock.json.
    const inputs = Object.keys(result.metafile.inputs)
      .filter((file) => !file.split(/[\\/]/).includes('node_modules'))
      .sort();
    if (existsSync(path.join(ROOT, 'package-lock.json'))) inputs.push('package-lock.json');
    const files = Object.fromEntries(inputs.map((file) => [file, sha256(path.join(ROOT, file))]));
    await writeFile(path.join(temp, BUILD_INFO), JSON.stringify({ node: process.version, files }, null, 1));
    await mkdir(path.dirname(outDir), { recursive: true });
    await rm(outDir, { recursive: true, force: true });
    await rename(temp, outDir);
    const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
    return { outDir, files: inputs.length, bytes };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * The built entry's URL when `dir` holds a build whose every input is unchanged, else why not.
 * @param {string} [dir]
 * @returns {{ entry: URL } | { stale: string }}
 */
export function currentBundle(dir = BUNDLE_DIR) {
  const infoFile = path.join(dir, BUILD_INFO);
  if (!existsSync(infoFile)) return { stale: `no build in ${path.relative(ROOT, dir) || dir}` };
  let files;
  try {
    files = JSON.parse(readFileSync(infoFile, 'utf8')).files;
  } catch {
    return { stale: `${infoFile} is unreadable` };
  }
  if (!files || typeof files !== 'object') return { stale: `${infoFile} lists no inputs` };
  for (const [file, hash] of Object.entries(files)) {
    const full = path.join(ROOT, file);
    if (!existsSync(full)) return { stale: `${file} is gone since the build` };
    if (sha256(full) !== hash) return { stale: `${file} changed since the build` };
  }
  return { entry: pathToFileURL(path.join(dir, BUNDLE_ENTRY)) };
}
