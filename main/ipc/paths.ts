/** Where the workstation finds its bundled parts when run from the repository (CLI, tests). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_DIR = path.join(REPO_ROOT, 'data/demo');
export const RENDERER_OUT_DIR = path.join(REPO_ROOT, 'out/renderer');
export const RENDERER_VITE_CONFIG = path.join(REPO_ROOT, 'renderer/vite.config.ts');
