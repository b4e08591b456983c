/**
 * `tractus serve`: the workstation in a browser on this machine. Serves the built renderer and the same API
 * handlers as the desktop app on 127.0.0.1 only, and prints the URL (with its random token) on stdout.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors';
import { createEngine } from '../../ipc/engine';
import { createHandlers, type Handlers } from '../../ipc/handlers';
import { startLoopbackServer, type LoopbackServer } from '../../ipc/http-server';
import { DEMO_DIR, RENDERER_OUT_DIR, RENDERER_VITE_CONFIG } from '../../ipc/paths';
import { SettingsStore } from '../../ipc/settings';
import { tractusHome } from '../../model/registry';

interface ServeOptions {
  port: string;
  data?: string;
  home?: string;
  renderer: string;
  build: boolean;
}

/** Build the renderer with vite when it has not been built yet (a fresh checkout). */
async function ensureRenderer(dir: string, build: boolean): Promise<void> {
  if (existsSync(path.join(dir, 'index.html'))) return;
  if (!build)
    throw new InputError(dir, 'renderer not built (run: npx vite build -c renderer/vite.config.ts)');
  process.stderr.write('tractus serve: building the user interface (first run)…\n');
  const vite = await import('vite');
  await vite.build({ configFile: RENDERER_VITE_CONFIG, logLevel: 'warn', build: { outDir: dir } });
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the workstation to a browser on this machine (127.0.0.1 only, token-protected)')
    .option('--port <port>', 'TCP port; 0 picks a free one', '0')
    .option('--data <dir>', 'dataset folder to open (default: the bundled demo patient)')
    .option(
      '--home <dir>',
      'where workspaces, settings and models live (default: $TRACTUS_HOME or ~/.tractus)',
    )
    .option('--renderer <dir>', 'built renderer folder', RENDERER_OUT_DIR)
    .option('--no-build', 'never build the renderer on demand')
    .action(async (opts: ServeOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new InputError('--port', `not a port: ${opts.port}`);
      const home = path.resolve(opts.home ?? tractusHome());
      await ensureRenderer(path.resolve(opts.renderer), opts.build);
      let server: LoopbackServer | null = null;
      const handlers: Handlers = createHandlers({
        engine: createEngine({ home }),
        settings: new SettingsStore(path.join(home, 'settings.json')),
        emit: (event, payload) => server?.broadcast(event, payload),
        transport: 'http',
        version: program.version() ?? '0.0.0',
        demoDir: DEMO_DIR,
        workspaceBase: home,
      });
      if (opts.data) await handlers['dataset:open']({ path: opts.data });
      server = await startLoopbackServer({ rendererDir: opts.renderer, port, handlers: () => handlers });
      process.stdout.write(`${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      handlers.jobs.cancelAll();
      await server.close();
    });
}
