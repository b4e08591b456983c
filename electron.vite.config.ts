/**
 * electron-vite build of the desktop app into out/: main (main/app/index.ts), preload (CommonJS, as sandboxed
 * preloads must be) and the renderer (same settings as renderer/vite.config.ts); the worker threads'
 * entries beside the main bundle (main/model/parallel/worker-entries.ts).
 */
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './renderer/vite.shared';

/** Main-thread modules of the worker pools (the workers themselves never import them). */
const POOL_MODULES =
  /[\\/]main[\\/]model[\\/]parallel[\\/](pool|infer-pool|infer-pool-keeper|data-parallel|worker-entries)\.ts$/;

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        // The worker threads' entries are built beside the app's: main/model/parallel/worker-entries.ts
        // finds them by these fixed names next to whichever bundled file it lands in, so every file is
        // emitted flat into out/main (no chunks/ folder).
        input: {
          index: 'main/app/index.ts',
          'infer-worker': 'main/model/parallel/infer-worker.ts',
          'train-worker': 'main/model/parallel/train-worker.ts',
        },
        output: {
          entryFileNames: '[name].js',
          chunkFileNames: '[name]-[hash].js',
          // The main-thread side of the pools in a chunk of its own (test/unit/bundle-workers.test.ts runs
          // it from the build in plain Node, where index.js cannot load without Electron).
          manualChunks: (id) => (POOL_MODULES.test(id) ? 'worker-pools' : undefined),
        },
        // Optional native packages (tfjs backends, ONNX Runtime): absent on some machines, loaded by
        // dynamic import when present, never bundled.
        external: ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node'],
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
