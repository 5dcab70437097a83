// The app store's first theme follows the system until the user picks one, and a workspace change
// reloads what the shell shows from the new workspace.
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppInfo } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { sshHostView } from '../components/hosts/host-view-fixtures';
import { THEME_STORAGE_KEY, initialTheme, useAppStore } from './app-store';
import { useCommandLogStore } from './command-log-store';
import { useHostsStore } from './hosts-store';

const INFO: AppInfo = { version: '0.1.0', shell: 'electron', workspaceDir: '/srv/lab2', demoLab: { available: false, running: null }, platform: 'linux' };
let api: FakeLabApi;

function prefersDark(dark: boolean): void {
  vi.spyOn(window, 'matchMedia').mockImplementation((query: string) => ({ matches: dark && query.includes('dark'), media: query }) as MediaQueryList);
}

beforeEach(() => {
  window.localStorage.clear();
  setActivePinia(createPinia());
  api = createFakeLabApi({ getAppInfo: () => Promise.resolve(INFO), listHosts: () => Promise.resolve([sshHostView('node9')]) });
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
    app.applyEvent({ type: 'workspace-changed', workspace: { dir: '/srv/lab2', hostCount: 1, topologies: [] } });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(app.appInfo?.workspaceDir).toBe('/srv/lab2');
    expect(useHostsStore().hosts.map((view) => view.host.name)).toEqual(['node9']);
    expect(log.entries).toEqual([]);
    expect(app.workspaceVersion).toBe(1);
  });
});
