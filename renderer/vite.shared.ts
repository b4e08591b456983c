/**
 * Renderer build settings shared by electron.vite.config.ts and renderer/vite.config.ts. No Node imports
 * (renderer folder rule): vite resolves import.meta.url of config files to the file itself.
 */
import vue from '@vitejs/plugin-vue';
import type { UserConfig } from 'vite';

/** This folder as a file-system path (decoded, so spaces in the checkout path survive). */
const here = decodeURIComponent(new URL('.', import.meta.url).pathname).replace(/^\/([A-Za-z]:)/, '$1');

export function rendererConfig(): UserConfig {
  return {
    root: here,
    // Relative asset URLs: the same build works from file:// in Electron and from the loopback server.
    base: './',
    plugins: [vue()],
    build: {
      // Relative to root: <repo>/out/renderer.
      outDir: '../out/renderer',
      emptyOutDir: true,
      chunkSizeWarningLimit: 2000,
      // electron-vite requires the entry spelled out; `here` ends with a slash.
      rollupOptions: { input: `${here}index.html` },
    },
  };
}
