/** The native menu: File (open folder, recent, demo, export, quit), Edit (undo/redo), View (zoom), Help. */
import { Menu, app, dialog, type BrowserWindow, type MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from '../../preload/api';
import { broadcast } from './ipc';

export interface MenuContext {
  window: () => BrowserWindow | null;
  recentFolders: string[];
  clearRecent: () => void;
  showAbout: () => void;
  showDoctor: () => void;
}

function send(command: MenuCommand, folder?: string): void {
  broadcast('menu', { command, ...(folder ? { path: folder } : {}) });
}

async function chooseFolder(ctx: MenuContext): Promise<void> {
  const win = ctx.window();
  const options = { properties: ['openDirectory' as const], title: 'Open a folder of MRI slices' };
  const res = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
  if (!res.canceled && res.filePaths[0]) send('open-folder', res.filePaths[0]);
}

export function buildMenu(ctx: MenuContext): Menu {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: '&File',
      submenu: [
        { label: 'Open Folder…', accelerator: 'CmdOrCtrl+O', click: () => void chooseFolder(ctx) },
        {
          label: 'Open Recent',
          submenu: ctx.recentFolders.length
            ? [
                ...ctx.recentFolders.map((f) => ({ label: f, click: () => send('open-recent', f) })),
                { type: 'separator' as const },
                { label: 'Clear Recent', click: () => ctx.clearRecent() },
              ]
            : [{ label: 'No recent folders', enabled: false }],
        },
        { label: 'Open Demo Patient', click: () => send('open-demo') },
        { type: 'separator' },
        { label: 'Export COCO…', accelerator: 'CmdOrCtrl+E', click: () => send('export') },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    {
      label: '&Edit',
      submenu: [
        // Mask undo lives in the renderer (per organ); the accelerators are handled there, the items mirror them.
        { label: 'Undo', accelerator: 'CmdOrCtrl+Z', registerAccelerator: false, click: () => send('undo') },
        {
          label: 'Redo',
          accelerator: 'CmdOrCtrl+Shift+Z',
          registerAccelerator: false,
          click: () => send('redo'),
        },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
      ],
    },
    {
      label: '&View',
      submenu: [
        { label: 'Zoom In', accelerator: 'CmdOrCtrl+=', click: () => send('zoom-in') },
        { label: 'Zoom Out', accelerator: 'CmdOrCtrl+-', click: () => send('zoom-out') },
        { label: 'Fit Image', accelerator: 'CmdOrCtrl+0', click: () => send('zoom-fit') },
        { type: 'separator' },
        { role: 'resetZoom', label: 'Reset Interface Zoom' },
        { role: 'togglefullscreen' },
        ...(app.isPackaged ? [] : [{ role: 'toggleDevTools' as const }]),
      ],
    },
    {
      label: '&Help',
      submenu: [
        { label: 'About Tractus', click: () => ctx.showAbout() },
        { label: 'Doctor (check this installation)', click: () => ctx.showDoctor() },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}
