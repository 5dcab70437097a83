// The same new-user flow as console.e2e.test.ts, in the desktop window itself (Playwright's _electron) over
// IPC, plus the page's view of the sandbox. Runs only when CNLAB_ELECTRON_BINARY points at an Electron binary.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { LAB_API_METHODS } from '../../src-main/contract/lab-api.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { screenshotter } from './support/browser';
import * as flow from './support/new-user-flow';

const ELECTRON_BINARY = process.env.CNLAB_ELECTRON_BINARY;
const MAIN_SCRIPT = join(__dirname, '..', '..', 'out', 'main', 'index.js');

/** What the window needs from the real environment to draw somewhere (X11 or Wayland), and nothing else. */
function displayEnv(): Record<string, string> {
  const names = ['DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'XDG_RUNTIME_DIR'];
  return Object.fromEntries(names.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

describe.skipIf(!ELECTRON_BINARY)('under Electron (set CNLAB_ELECTRON_BINARY to an Electron binary to run)', () => {
  let testbed: Testbed;
  let app: ElectronApplication | undefined;
  let page: Page;
  let scratch: string | undefined;
  let shot: flow.FlowContext['shot'];
  const pageErrors: string[] = [];
  const context = (): flow.FlowContext => ({ page, testbed, shot });

  beforeAll(async () => {
    if (!existsSync(MAIN_SCRIPT)) throw new Error('the console is not built: run `npm run build` first');
    shot = screenshotter('electron');
    testbed = await startTestbed({ hosts: 2 });
    scratch = mkdtempSync(join(tmpdir(), 'cnlab-e2e-electron-'));
    // Its own HOME, config folder and workspace: desktop-app.ts resolves them from these, as on a first start.
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: join(scratch, 'home'),
      CNLAB_CONFIG_DIR: join(scratch, 'config'),
      CNLAB_WORKSPACE: join(scratch, 'workspace'),
      ...displayEnv(),
    };
    // Chromium refuses to start as root (the testbed needs root) with its OS sandbox on. The page's own
    // isolation (contextIsolation, sandboxed renderer) comes from webPreferences and is checked below.
    const rootArgs = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
    app = await _electron.launch({ executablePath: ELECTRON_BINARY, args: [...rootArgs, MAIN_SCRIPT], env, timeout: 60_000 });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 180_000);

  afterAll(async () => {
    if (app) {
      // Quitting closes the backend's SSH connections first; a hung quit is ended by the PID we started.
      const child = app.process();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await app.close().catch(() => undefined);
      clearTimeout(timer);
    }
    await testbed?.teardown();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('gives the page exactly the LabApi as window.lab, and nothing of Node or Electron', async () => {
    const seen = await page.evaluate(() => {
      // Runs in the page, where globalThis is its window.
      const win = globalThis as unknown as Record<string, unknown>;
      const lab = (win.lab ?? {}) as Record<string, unknown>;
      return {
        hasLab: typeof win.lab === 'object' && win.lab !== null,
        members: Object.keys(lab).sort(),
        nonFunctions: Object.keys(lab).filter((key) => typeof lab[key] !== 'function'),
        require: typeof win.require,
        process: typeof win.process,
        ipcRenderer: typeof win.ipcRenderer,
      };
    });
    expect(seen.hasLab).toBe(true);
    expect(seen.members).toEqual([...LAB_API_METHODS, 'onEvent'].sort());
    expect(seen.nonFunctions).toEqual([]);
    expect({ require: seen.require, process: seen.process, ipcRenderer: seen.ipcRenderer }).toEqual({ require: 'undefined', process: 'undefined', ipcRenderer: 'undefined' });
  });

  describe('a new user, empty workspace → applied, verified, torn-down two-host lab', () => {
    it('opens on an empty state that says what to do first', () => flow.seeEmptyWorkspace(context()));

    flow.registerFlowSteps(context);
  });

  describe('a changed host key', () => {
    it('is refused with the fix, and the dialog offers no way to accept it', async () => {
      await flow.refuseChangedHostKey(context());
      expect(pageErrors).toEqual([]);
    });
  });
});
