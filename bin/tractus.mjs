#!/usr/bin/env node
// Installed entry point: runs the TypeScript CLI through tsx's loader (a runtime dependency),
// so the CLI and its worker threads need no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../main/cli/index.ts');
