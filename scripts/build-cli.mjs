#!/usr/bin/env node
// `npm run build:cli` (also run by `npm ci` / `npm install` through "prepare"): the CLI as plain JavaScript
// in out/cli, which bin/tractus.mjs runs while it matches the sources. With --if-possible a machine without
// esbuild (a production install) skips the build and runs the sources.
import { buildCliBundle } from '../bin/cli-bundle.mjs';

const optional = process.argv.includes('--if-possible');
try {
  const t0 = performance.now();
  const { outDir, files, bytes } = await buildCliBundle();
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `tractus CLI built: ${outDir} (${files} source files, ${(bytes / 1e6).toFixed(1)} MB, ${seconds} s)`,
  );
} catch (e) {
  const reason = e instanceof Error ? e.message : String(e);
  if (!optional) throw e;
  console.warn(`tractus CLI not built (${reason.split('\n')[0]}); \`tractus\` runs the TypeScript sources`);
}
