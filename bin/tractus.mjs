#!/usr/bin/env node
// Installed entry point. Runs the built CLI (out/cli, see ./cli-bundle.mjs) while it matches the sources,
// else the TypeScript CLI through tsx's loader (a runtime dependency), so a checkout never runs stale code.
// TRACTUS_FROM_SOURCE=1 always runs the sources. `tractus doctor` says which one ran (TRACTUS_CLI_CODE).
import { currentBundle } from './cli-bundle.mjs';

const bundle = process.env.TRACTUS_FROM_SOURCE === '1' ? { stale: 'TRACTUS_FROM_SOURCE=1' } : currentBundle();
if ('entry' in bundle) {
  process.env.TRACTUS_CLI_CODE = 'build (out/cli)';
  await import(bundle.entry.href);
} else {
  process.env.TRACTUS_CLI_CODE = `sources through tsx (${bundle.stale})`;
  const { register } = await import('tsx/esm/api');
  register();
  await import('../main/cli/index.ts');
}
