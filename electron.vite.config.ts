/**
 * electron-vite build of the desktop app into out/: main (main/app/index.ts), preload (CommonJS, as sandboxed
 * preloads must be) and the renderer (same settings as renderer/vite.config.ts).
 */
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './renderer/vite.shared';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: { index: 'main/app/index.ts' },
        // Optional native tfjs backends: absent on most machines, loaded by dynamic import when present.
        external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      rollupOptions: {
        input: { index: 'preload/index.ts' },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: rendererConfig(),
});
