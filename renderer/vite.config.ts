/**
 * Build of the renderer alone (for `tractus serve` and the browser e2e tests): same settings as the renderer
 * section of electron.vite.config.ts, output in out/renderer.
 */
import { defineConfig } from 'vite';
import { rendererConfig } from './vite.shared';

export default defineConfig(rendererConfig());
