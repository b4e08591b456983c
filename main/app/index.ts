/**
 * Electron main process: one locked-down window, the typed API over IPC (same handlers as `tractus serve`),
 * the native menu, and settings in userData (atomic JSON).
 */
import { app, BrowserWindow, Menu, dialog } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../ipc/engine';
import { createHandlers } from '../ipc/handlers';
import { SettingsStore } from '../ipc/settings';
import { broadcast, wireIpc } from './ipc';
import { buildMenu } from './menu';
import { createMainWindow, hardenSession, isAppUrl, type WindowPaths } from './window';

const here = path.dirname(fileURLToPath(import.meta.url));
// electron-vite lays out out/main, out/preload, out/renderer side by side.
const paths: WindowPaths = {
  // Sandboxed preloads must be CommonJS (electron.vite.config.ts builds it so).
  preload: path.join(here, '../preload/index.cjs'),
  rendererIndex: path.join(here, '../renderer/index.html'),
  ...(process.env.ELECTRON_RENDERER_URL ? { devServerUrl: process.env.ELECTRON_RENDERER_URL } : {}),
};
/** Bundled demo patient: in resources/ when packaged, in the repository when run from source. */
const demoDir = app.isPackaged
  ? path.join(process.resourcesPath, 'data/demo')
  : path.resolve(here, '../../data/demo');

let mainWindow: BrowserWindow | null = null;

async function start(): Promise<void> {
  const home = app.getPath('userData');
  // Opening a folder adds it to the recent list: the File > Open Recent menu follows at once.
  const settings = new SettingsStore(path.join(home, 'settings.json'), () => void refreshMenu());
  const engine = createEngine({ home });
  const handlers = createHandlers({
    engine,
    settings,
    emit: broadcast,
    transport: 'electron',
    version: app.getVersion(),
    demoDir,
    workspaceBase: home,
  });
  wireIpc(handlers, (url) => isAppUrl(url, paths));
  hardenSession();

  async function refreshMenu(): Promise<void> {
    const s = await settings.get();
    Menu.setApplicationMenu(
      buildMenu({
        window: () => mainWindow,
        recentFolders: s.recentFolders,
        clearRecent: () => void settings.set({ recentFolders: [] }),
        showAbout: () =>
          void dialog.showMessageBox({
            type: 'info',
            title: 'About Tractus',
            message: `Tractus ${app.getVersion()}`,
            detail:
              'Segmentation and review of stomach, small bowel and large bowel on abdominal MRI.\n' +
              'Research use only: every contour must be reviewed by a clinician.',
          }),
        showDoctor: () =>
          void handlers['app:info']({}).then((info) =>
            dialog.showMessageBox({
              type: 'info',
              title: 'Tractus doctor',
              message: `Compute backend: ${info.backend.name}`,
              detail: `${info.backend.detail ?? ''}\nData folder: ${home}`,
            }),
          ),
      }),
    );
  }
  await refreshMenu();
  mainWindow = createMainWindow(paths, (await settings.get()).zoom);
  mainWindow.on('focus', () => void refreshMenu());
  app.on('before-quit', () => {
    handlers.jobs.cancelAll();
    void engine.close?.();
  });
}

// One instance per user: a second launch focuses the first window.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  app.whenReady().then(start, (e) => {
    dialog.showErrorBox('Tractus could not start', String(e));
    app.exit(1);
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createMainWindow(paths, 1);
  });
}
