/**
 * Renderer build settings shared by electron.vite.config.ts and renderer/vite.config.ts. No Node imports
 * (renderer folder rule): vite resolves import.meta.url of config files to the file itself.
 */
import vue from '@vitejs/plugin-vue';
import type { UserConfig } from 'vite';

/** A path relative to this folder as a file-system path (decoded, so spaces in the checkout path survive). */
const fromHere = (relative: string) =>
  decodeURIComponent(new URL(relative, import.meta.url).pathname).replace(/^\/([A-Za-z]:)/, '$1');
const here = fromHere('.');

export function rendererConfig(): UserConfig {
  return {
    root: here,
    // Relative asset URLs: the same build works from file:// in Electron and from the loopback server.
    base: './',
    plugins: [vue()],
    build: {
      // <repo>/out/renderer, absolute: vite resolves a relative outDir against `root`, electron-vite against
      // the working directory (a relative one put the app's renderer in <repo>/../out/renderer).
      outDir: fromHere('../out/renderer'),
      emptyOutDir: true,
      chunkSizeWarningLimit: 2000,
      // electron-vite requires the entry spelled out; `here` ends with a slash.
      rollupOptions: { input: `${here}index.html` },
    },
  };
}
