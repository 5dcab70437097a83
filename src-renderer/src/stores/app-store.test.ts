// The app store's first theme follows the system until the user picks one, a workspace change reloads
// what the shell shows from the new workspace, the areas' save states add up, and Save As copies.
import { flushPromises } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick, ref } from 'vue';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppInfo } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, workspaceInfo, type FakeLabApi } from '../test-support/fake-lab-api';
import type { SaveState } from '../composables/use-autosave';
import { sshHostView } from '../components/hosts/host-view-fixtures';
import { THEME_STORAGE_KEY, initialTheme, useAppStore } from './app-store';
import { useCommandLogStore } from './command-log-store';
import { useHostsStore } from './hosts-store';

const INFO: AppInfo = { version: '0.1.0', shell: 'electron', workspaceDir: '/srv/lab2', demoLab: { available: false, running: null }, platform: 'linux', secrets: { protection: 'os', note: 'encrypted' } };
let api: FakeLabApi;

function prefersDark(dark: boolean): void {
  vi.spyOn(window, 'matchMedia').mockImplementation((query: string) => ({ matches: dark && query.includes('dark'), media: query }) as MediaQueryList);
}

beforeEach(() => {
  window.localStorage.clear();
  setActivePinia(createPinia());
  api = createFakeLabApi({ getAppInfo: () => Promise.resolve(INFO), getWorkspaceInfo: () => Promise.resolve(workspaceInfo(INFO.workspaceDir)), listHosts: () => Promise.resolve([sshHostView('node9')]) });
  setLabApi(api);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('app store', () => {
  it('starts with the system colour scheme, then the one the user chose', () => {
    prefersDark(true);
    expect(initialTheme()).toBe('dark');
    prefersDark(false);
    expect(initialTheme()).toBe('light');
    window.localStorage.setItem(THEME_STORAGE_KEY, 'dark');
    expect(initialTheme()).toBe('dark');
  });

  it('reloads app info and hosts and clears the old log when the workspace changes', async () => {
    const app = useAppStore();
    const log = useCommandLogStore();
    log.applyEvent({ type: 'command', entry: { seq: 1, startedAt: '2026-11-22T08:00:00Z', host: 'old', lab: null, summary: 'true', text: 'true', exitCode: 0, durationMs: 1 } });
    app.applyEvent({ type: 'workspace-changed', workspace: workspaceInfo('/srv/lab2', { hostCount: 1 }) });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(app.appInfo?.workspaceDir).toBe('/srv/lab2');
    expect(useHostsStore().hosts.map((view) => view.host.name)).toEqual(['node9']);
    expect(log.entries).toEqual([]);
    expect(app.workspaceVersion).toBe(1);
  });

  it('sums the areas\' save states, titles the window with it, and Save flushes every area', async () => {
    const app = useAppStore();
    await app.loadInfo();
    const state = ref<SaveState>('saved');
    const flush = vi.fn(() => {
      state.value = 'saved';
      return Promise.resolve();
    });
    app.registerAutosave('topology', { state, error: ref(null), lastSavedAt: ref(null), flush, markSaved: vi.fn() });
    expect(app.saveState.state).toBe('saved');
    state.value = 'dirty';
    await nextTick();
    expect(app.saveState.state).toBe('dirty');
    expect(document.title).toBe(`• cnlab — ${INFO.workspaceDir.split('/').at(-1) ?? ''}`);
    app.applyEvent({ type: 'menu', action: 'save-workspace' });
    await flushPromises();
    expect(flush).toHaveBeenCalledTimes(1);
    expect(app.saveState.state).toBe('saved');
    expect(document.title).toBe(`cnlab — ${INFO.workspaceDir.split('/').at(-1) ?? ''}`);
  });

  it('saves, then copies the workspace on Save As, and says when opening upgraded an older file', async () => {
    const app = useAppStore();
    app.applyEvent({ type: 'menu', action: 'save-workspace-as' });
    expect(app.workspaceDialog).toEqual({ mode: 'save-as' });
    api.saveWorkspaceAs.mockResolvedValue(workspaceInfo('/srv/copy'));
    api.getWorkspaceInfo.mockResolvedValue(workspaceInfo('/srv/copy', { upgrade: { from: 1, backupFile: '/srv/copy/workspace.v1.yaml.bak' } }));
    await app.saveWorkspaceAs('/srv/copy');
    expect(api.saveWorkspaceAs).toHaveBeenCalledWith({ dir: '/srv/copy' });
    expect(app.workspaceDialog).toBeNull();
    expect(app.upgradeNotice).toBe('/srv/copy was upgraded from workspace format 1; the original file is kept as /srv/copy/workspace.v1.yaml.bak.');
  });
});
