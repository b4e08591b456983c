/**
 * The main window, locked down: context isolation, sandbox, no Node in the renderer, a strict CSP on every
 * response, no navigation away from the app and no new windows (only an allowlist of our documentation links
 * opens, in the system browser; this is a clinical tool).
 */
import { BrowserWindow, session, shell } from 'electron';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../ipc/http-server';
import { isAllowedExternalLink } from './links';

export interface WindowPaths {
  preload: string;
  rendererIndex: string;
  devServerUrl?: string;
}

export function appUrl(paths: WindowPaths): string {
  return paths.devServerUrl ?? pathToFileURL(paths.rendererIndex).toString();
}

/** The only pages allowed to talk to main: our own renderer. */
export function isAppUrl(url: string, paths: WindowPaths): boolean {
  if (paths.devServerUrl) return url.startsWith(paths.devServerUrl);
  return url.startsWith(pathToFileURL(path.dirname(paths.rendererIndex)).toString());
}

export function hardenSession(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
  // No camera, microphone, notifications, geolocation…: the workstation needs no permission.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
}

export function createMainWindow(paths: WindowPaths, zoom: number): BrowserWindow {
  const win = new BrowserWindow({
    width: 1920,
    height: 1080,
    minWidth: 1100,
    minHeight: 700,
    backgroundColor: '#0f1217',
    title: 'Tractus',
    show: false,
    webPreferences: {
      preload: paths.preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
      // middle-click would open links in new windows, bypassing the navigation checks (Electronegativity
      // AUXCLICK_JS_CHECK)
      disableBlinkFeatures: 'Auxclick',
    },
  });
  win.once('ready-to-show', () => {
    win.webContents.setZoomFactor(zoom);
    win.show();
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, paths)) event.preventDefault();
  });
  win.webContents.setWindowOpenHandler(({ url }) => {
    // Only the documentation links we ship may open, and then in the system browser, never in the app.
    if (isAllowedExternalLink(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void win.loadURL(appUrl(paths));
  return win;
}
