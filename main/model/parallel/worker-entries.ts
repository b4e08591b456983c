/**
 * Where each worker thread's entry module is, in both ways the code runs:
 * - from source (tsx: CLI, `tractus serve`, tests): the .ts file beside this one;
 * - built by electron-vite: the .js file of the same name. electron.vite.config.ts emits every main-process
 *   file (entries and shared chunks) flat into out/main with fixed entry names, so whichever bundled file
 *   this code ends up in, the workers sit beside it.
 * This module's own extension tells the two apart, so no runtime flag or start-up setting is needed.
 */

/** Worker entry modules; the names are the build's entry names (electron.vite.config.ts `input`). */
export const WORKER_ENTRIES = ['infer-worker', 'train-worker'] as const;
export type WorkerEntry = (typeof WORKER_ENTRIES)[number];

/** The extension of the running code: '.ts' from source, '.js' (or .mjs) when bundled. */
export function runningExtension(moduleUrl: string = import.meta.url): string {
  const match = /\.[cm]?[jt]s$/.exec(new URL(moduleUrl).pathname);
  return match ? match[0] : '.js';
}

/** File URL of a worker entry, beside `moduleUrl` (this module by default) with its extension. */
export function workerEntryUrl(name: WorkerEntry, moduleUrl: string = import.meta.url): URL {
  return new URL(`./${name}${runningExtension(moduleUrl)}`, moduleUrl);
}
