// Electron adapter: one locked-down main window (sandbox, strict CSP, no navigation away, no permissions)
// over the console backend, bridged by IPC, with the native menu and remembered window bounds.
import { app, BrowserWindow, dialog, Menu, screen, session, shell, type Session, type WebContents } from 'electron';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { openLabConsole, type LabConsole } from '../api/lab-console';
import type { MenuAction } from '../contract/lab-api';
import { writeFileAtomic } from '../core/fs/atomic-write';
import { resolveConfigDir, resolveWorkspaceDir } from '../core/workspace/paths';
import { CONTENT_SECURITY_POLICY } from '../server/security-headers';
import { buildAppMenu, DOCUMENTATION_URL } from './app-menu';
import { isAppUrl, isExternalWebUrl, type AppLocation } from './app-url';
import { bridgeLabApi } from './ipc-bridge';
import { openSafeStorageSecretStore } from './safe-storage-cipher';
import { MIN_WINDOW_SIZE, restoreWindowState, serializeWindowState, windowStateFile } from './window-state';

interface DesktopContext {
  labConsole: LabConsole;
  configDir: string;
  location: AppLocation;
}

function appLocation(): AppLocation {
  return { indexFile: join(__dirname, '../renderer/index.html'), devServerUrl: process.env.ELECTRON_RENDERER_URL };
}

/** The same policy as the browser mode, on every response; the built index.html also carries it as a meta tag. */
function enforceContentSecurityPolicy(target: Session): void {
  target.webRequest.onHeadersReceived((details, callback) => {
    const headers = Object.fromEntries(Object.entries(details.responseHeaders ?? {}).filter(([name]) => name.toLowerCase() !== 'content-security-policy'));
    callback({ responseHeaders: { ...headers, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  // The console needs no camera, notifications or anything else a page can ask for.
  target.setPermissionRequestHandler((_contents, _permission, grant) => grant(false));
  target.setPermissionCheckHandler(() => false);
}

/** A page holding the privileged bridge must never become another page; web links go to the system browser. */
function guardNavigation(contents: WebContents, location: AppLocation): void {
  const leaveApp = (event: { preventDefault(): void }, url: string): void => {
    if (isAppUrl(url, location)) return;
    event.preventDefault();
    if (isExternalWebUrl(url)) void shell.openExternal(url);
  };
  contents.on('will-navigate', leaveApp);
  contents.on('will-redirect', leaveApp);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

function readWindowState(configDir: string) {
  let text: string | null = null;
  try {
    text = readFileSync(windowStateFile(configDir), 'utf8');
  } catch {
    // No file yet (first start) or unreadable: the defaults apply.
  }
  return restoreWindowState(text, screen.getAllDisplays().map((display) => display.workArea));
}

function rememberWindowState(window: BrowserWindow, configDir: string): void {
  let timer: NodeJS.Timeout | null = null;
  const save = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (window.isDestroyed()) return;
    // A failed save only loses the window position: never worth an error dialog.
    writeFileAtomic(windowStateFile(configDir), serializeWindowState(window.getNormalBounds(), window.isMaximized())).catch(() => undefined);
  };
  const saveSoon = (): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 500);
  };
  window.on('resize', saveSoon);
  window.on('move', saveSoon);
  window.on('maximize', saveSoon);
  window.on('unmaximize', saveSoon);
  window.on('close', save);
}

function createMainWindow(context: DesktopContext): BrowserWindow {
  const state = readWindowState(context.configDir);
  const window = new BrowserWindow({
    ...(state.x !== undefined && state.y !== undefined ? { x: state.x, y: state.y } : {}),
    width: state.width,
    height: state.height,
    minWidth: MIN_WINDOW_SIZE.width,
    minHeight: MIN_WINDOW_SIZE.height,
    title: 'cnlab',
    show: false,
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  if (state.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  guardNavigation(window.webContents, context.location);
  bridgeLabApi(window, context.labConsole.dispatcher, context.location);
  rememberWindowState(window, context.configDir);
  if (context.location.devServerUrl) void window.loadURL(context.location.devServerUrl);
  else void window.loadFile(context.location.indexFile);
  return window;
}

async function chooseWorkspace(context: DesktopContext, create: boolean, refreshMenu: () => void): Promise<void> {
  const parent = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  const options: Electron.OpenDialogOptions = {
    title: create ? 'New workspace: choose or create an empty folder' : 'Open workspace',
    buttonLabel: create ? 'Create Workspace' : 'Open Workspace',
    properties: create ? ['openDirectory', 'createDirectory'] : ['openDirectory'],
  };
  const choice = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
  const dir = choice.filePaths[0];
  if (choice.canceled || !dir) return;
  await openWorkspaceDir(context, dir, create, refreshMenu);
}

/** The backend announces the switch to the page itself (a workspace-changed event). */
async function openWorkspaceDir(context: DesktopContext, dir: string, create: boolean, refreshMenu: () => void): Promise<void> {
  const envelope = await context.labConsole.dispatcher.invoke('openWorkspace', { dir, create });
  if (!envelope.ok) {
    await dialog.showMessageBox({ type: 'error', title: 'cnlab', message: `Cannot open the workspace ${dir}`, detail: envelope.error.message });
    return;
  }
  refreshMenu();
}

async function installMenu(context: DesktopContext): Promise<void> {
  const refresh = (): void => void installMenu(context);
  const recent = await context.labConsole.dispatcher.invoke('listRecentWorkspaces', null);
  const sendToPage = (action: MenuAction): void => context.labConsole.emit({ type: 'menu', action });
  const menu = buildAppMenu({
    recentWorkspaces: recent.ok ? (recent.value as string[]) : [],
    packaged: app.isPackaged,
    isMac: process.platform === 'darwin',
    actions: {
      newWorkspace: () => void chooseWorkspace(context, true, refresh),
      openWorkspace: () => void chooseWorkspace(context, false, refresh),
      openRecent: (dir) => void openWorkspaceDir(context, dir, false, refresh),
      sendToPage,
      openDocumentation: () => void shell.openExternal(DOCUMENTATION_URL),
    },
  });
  Menu.setApplicationMenu(menu);
}

async function openConsole(): Promise<DesktopContext> {
  const env = process.env;
  const homeDir = env.HOME || homedir();
  const configDir = resolveConfigDir({ env, homeDir });
  // Remembered passwords and passphrases: OS-encrypted through safeStorage, never in the workspace.
  const secretStore = await openSafeStorageSecretStore(configDir);
  const labConsole = await openLabConsole({ workspaceDir: resolveWorkspaceDir(undefined, { env, homeDir }), configDir, homeDir, env, shell: 'electron', secretStore });
  return { labConsole, configDir, location: appLocation() };
}

function focusExistingWindow(): void {
  const [window] = BrowserWindow.getAllWindows();
  if (!window) return;
  if (window.isMinimized()) window.restore();
  window.focus();
}

/** Closes the backend (jobs, SSH connections) before the process exits. */
function closeConsoleOnQuit(context: DesktopContext): void {
  let closing = false;
  app.on('will-quit', (event) => {
    if (closing) return;
    closing = true;
    event.preventDefault();
    void context.labConsole.close().finally(() => app.quit());
  });
}

async function startWindow(): Promise<void> {
  enforceContentSecurityPolicy(session.defaultSession);
  let context: DesktopContext;
  try {
    context = await openConsole();
  } catch (error) {
    dialog.showErrorBox('cnlab cannot start', error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error));
    app.exit(1);
    return;
  }
  closeConsoleOnQuit(context);
  await installMenu(context);
  createMainWindow(context);
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow(context);
  });
}

export function startDesktopApp(): void {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', focusExistingWindow);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  void app.whenReady().then(startWindow);
}
