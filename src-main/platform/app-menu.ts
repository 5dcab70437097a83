// The native menu: File (workspaces), View (areas, drawer, theme, zoom) and Help. Items the page owns
// (save, toggles, areas) only send it a menu event; workspace dialogs are native and run here.
import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuAction } from '../contract/lab-api';

export const DOCUMENTATION_URL = 'https://github.com/cnlab/cnlab';

export interface AppMenuActions {
  newWorkspace(): void;
  openWorkspace(): void;
  openRecent(dir: string): void;
  /** Asks the page to act (it owns unsaved designer state). */
  sendToPage(action: MenuAction): void;
  openDocumentation(): void;
}

export interface AppMenuOptions {
  recentWorkspaces: readonly string[];
  /** Packaged builds hide the developer tools. */
  packaged: boolean;
  isMac: boolean;
  actions: AppMenuActions;
}

function fileMenu({ recentWorkspaces, isMac, actions }: AppMenuOptions): MenuItemConstructorOptions {
  const recent: MenuItemConstructorOptions[] =
    recentWorkspaces.length > 0 ? recentWorkspaces.map((dir) => ({ label: dir, click: () => actions.openRecent(dir) })) : [{ label: 'No recent workspaces', enabled: false }];
  return {
    label: 'File',
    submenu: [
      { label: 'New Workspace…', click: () => actions.newWorkspace() },
      { label: 'Open Workspace…', accelerator: 'CmdOrCtrl+O', click: () => actions.openWorkspace() },
      { label: 'Open Recent', submenu: recent },
      { type: 'separator' },
      { label: 'Save Workspace', accelerator: 'CmdOrCtrl+S', click: () => actions.sendToPage('save-workspace') },
      { label: 'Save Workspace As…', accelerator: 'CmdOrCtrl+Shift+S', click: () => actions.sendToPage('save-workspace-as') },
      { type: 'separator' },
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };
}

function viewMenu({ packaged, actions }: AppMenuOptions): MenuItemConstructorOptions {
  // The page binds these keys itself (use-app-shortcuts.ts): the menu shows them without registering them,
  // else one key press would toggle twice.
  const pageKey = (accelerator: string): Partial<MenuItemConstructorOptions> => ({ accelerator, registerAccelerator: false });
  return {
    label: 'View',
    submenu: [
      { label: 'Hosts', ...pageKey('Alt+1'), click: () => actions.sendToPage('show-hosts') },
      { label: 'Topology', ...pageKey('Alt+2'), click: () => actions.sendToPage('show-topology') },
      { label: 'Experiments', ...pageKey('Alt+3'), click: () => actions.sendToPage('show-experiments') },
      { label: 'Results', ...pageKey('Alt+4'), click: () => actions.sendToPage('show-results') },
      { type: 'separator' },
      { label: 'Toggle Command Log', ...pageKey('CmdOrCtrl+L'), click: () => actions.sendToPage('toggle-log') },
      { label: 'Toggle Light/Dark Theme', ...pageKey('CmdOrCtrl+Shift+L'), click: () => actions.sendToPage('toggle-theme') },
      { type: 'separator' },
      { role: 'reload' },
      ...(packaged ? [] : [{ role: 'toggleDevTools' } as const]),
      { type: 'separator' },
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
    ],
  };
}

function helpMenu({ actions }: AppMenuOptions): MenuItemConstructorOptions {
  return {
    role: 'help',
    submenu: [{ label: 'Documentation', click: () => actions.openDocumentation() }, { role: 'about' }],
  };
}

export function buildAppMenu(options: AppMenuOptions): Menu {
  const template: MenuItemConstructorOptions[] = [
    ...(options.isMac ? [{ role: 'appMenu' } as const] : []),
    fileMenu(options),
    viewMenu(options),
    { role: 'windowMenu' },
    helpMenu(options),
  ];
  return Menu.buildFromTemplate(template);
}
