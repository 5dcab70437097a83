// The native menu's content: workspace items, recent folders, the page's actions as menu events, and
// developer tools only in development builds.
import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuAction } from '../contract/lab-api';

// The Electron binary cannot run here, so Menu.buildFromTemplate just hands back the template it was given.
vi.mock('electron', () => ({ Menu: { buildFromTemplate: (template: MenuItemConstructorOptions[]) => template } }));

const { buildAppMenu } = await import('./app-menu');

function menuOf(options: { recent?: string[]; packaged?: boolean; isMac?: boolean } = {}) {
  const calls: string[] = [];
  const sent: MenuAction[] = [];
  const template = buildAppMenu({
    recentWorkspaces: options.recent ?? [],
    packaged: options.packaged ?? false,
    isMac: options.isMac ?? false,
    actions: {
      newWorkspace: () => calls.push('new'),
      openWorkspace: () => calls.push('open'),
      openRecent: (dir) => calls.push(`recent ${dir}`),
      sendToPage: (action) => sent.push(action),
      openDocumentation: () => calls.push('docs'),
    },
  }) as unknown as MenuItemConstructorOptions[];
  const submenu = (label: string): MenuItemConstructorOptions[] => (template.find((item) => item.label === label || item.role === label)?.submenu ?? []) as MenuItemConstructorOptions[];
  const item = (menu: string, label: string): MenuItemConstructorOptions | undefined => submenu(menu).find((entry) => entry.label === label);
  const click = (entry: MenuItemConstructorOptions | undefined): void => (entry?.click as (() => void) | undefined)?.();
  return { template, submenu, item, click, calls, sent };
}

describe('app menu', () => {
  it('offers the workspace items in File and runs their actions', () => {
    const menu = menuOf();
    menu.click(menu.item('File', 'New Workspace…'));
    menu.click(menu.item('File', 'Open Workspace…'));
    expect(menu.calls).toEqual(['new', 'open']);
    expect(menu.submenu('File').some((entry) => entry.role === 'quit')).toBe(true);
  });

  it('asks the page to save on Save Workspace, bound to Ctrl/Cmd+S', () => {
    const menu = menuOf();
    const save = menu.item('File', 'Save Workspace');
    expect(save?.accelerator).toBe('CmdOrCtrl+S');
    menu.click(save);
    expect(menu.sent).toEqual(['save-workspace']);
    const saveAs = menu.item('File', 'Save Workspace As…');
    expect(saveAs?.accelerator).toBe('CmdOrCtrl+Shift+S');
    menu.click(saveAs);
    expect(menu.sent).toEqual(['save-workspace', 'save-workspace-as']);
  });

  it('lists recent workspaces and opens the one chosen; says so when there are none', () => {
    const menu = menuOf({ recent: ['/labs/a.cnlab', '/labs/b.cnlab'] });
    const recent = menu.item('File', 'Open Recent')?.submenu as MenuItemConstructorOptions[];
    expect(recent.map((entry) => entry.label)).toEqual(['/labs/a.cnlab', '/labs/b.cnlab']);
    menu.click(recent[1]);
    expect(menu.calls).toEqual(['recent /labs/b.cnlab']);
    const empty = menuOf().item('File', 'Open Recent')?.submenu as MenuItemConstructorOptions[];
    expect(empty).toEqual([{ label: 'No recent workspaces', enabled: false }]);
  });

  it('sends the View actions to the page', () => {
    const menu = menuOf();
    for (const label of ['Hosts', 'Topology', 'Experiments', 'Results', 'Toggle Command Log', 'Toggle Light/Dark Theme']) menu.click(menu.item('View', label));
    expect(menu.sent).toEqual(['show-hosts', 'show-topology', 'show-experiments', 'show-results', 'toggle-log', 'toggle-theme']);
  });

  it('shows the developer tools only when not packaged', () => {
    const roles = (packaged: boolean): unknown[] => menuOf({ packaged }).submenu('View').map((entry) => entry.role);
    expect(roles(false)).toContain('toggleDevTools');
    expect(roles(true)).not.toContain('toggleDevTools');
    expect(roles(true)).toEqual(expect.arrayContaining(['reload', 'zoomIn', 'zoomOut', 'resetZoom']));
  });

  it('opens the documentation and has About in Help', () => {
    const menu = menuOf();
    menu.click(menu.item('help', 'Documentation'));
    expect(menu.calls).toEqual(['docs']);
    expect(menu.submenu('help').some((entry) => entry.role === 'about')).toBe(true);
  });
});
