// The shell with the API swapped for the test double: tabs, theme (remembered), log drawer, shortcuts,
// menu events, the demo lab's job flow, and the event subscription's cleanup.
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import type { AppInfo } from '@contract/lab-api';
import { setLabApi } from './api/lab-client';
import { createFakeLabApi, workspaceInfo, type FakeLabApi } from './test-support/fake-lab-api';
import { useAppStore, THEME_STORAGE_KEY } from './stores/app-store';
import { sshHostView } from './components/hosts/host-view-fixtures';
import App from './App.vue';

// The real Topology view draws its diagram on a canvas, which happy-dom lacks, and has tests of its own:
// here a stand-in marks where the shell shows it.
vi.mock('./views/TopologyView.vue', () => ({ default: defineComponent({ name: 'TopologyView', setup: () => () => h('section', { 'data-testid': 'topology-view' }) }) }));

const DEMO = { id: 'demo-1', hosts: ['h1', 'h2', 'h3'], topologyName: 'demo', topologyText: 'version: 1\nname: demo\n' };

function appInfo(demoLab: AppInfo['demoLab']): AppInfo {
  return { version: '0.1.0', shell: 'browser', workspaceDir: '/home/me/cnlab/lab1', demoLab, platform: 'linux', secrets: { protection: 'memory', note: 'session only' } };
}

let api: FakeLabApi;
let wrapper: VueWrapper | null = null;

async function mountApp(): Promise<VueWrapper> {
  wrapper = mount(App, { attachTo: document.body });
  await flushPromises();
  return wrapper;
}

function press(key: string, init: KeyboardEventInit = {}): void {
  window.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init }));
}

beforeEach(() => {
  // The topology store keeps the draft in browser storage: every test starts from none.
  window.localStorage.clear();
  window.localStorage.clear();
  setActivePinia(createPinia());
  api = createFakeLabApi({
    getAppInfo: () => Promise.resolve(appInfo({ available: true, running: null })),
    getWorkspaceInfo: () => Promise.resolve(workspaceInfo()),
    listRecentWorkspaces: () => Promise.resolve(['/srv/lab1', '/srv/old']),
    listHosts: () => Promise.resolve([]),
    getCommandLog: () => Promise.resolve([]),
    startDemoLab: () => Promise.resolve({ jobId: 'job-demo', kind: 'demo-start' }),
    cancelJob: () => Promise.resolve(),
  });
  setLabApi(api);
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
});

describe('shell', () => {
  it('shows the workspace and switches between the Hosts and Topology tabs', async () => {
    const app = await mountApp();
    expect(app.get('[data-testid=workspace-path]').text()).toBe('/home/me/cnlab/lab1');
    expect(app.find('[data-testid=hosts-empty]').exists()).toBe(true);
    await app.get('[data-testid=nav-topology]').trigger('click');
    expect(app.find('[data-testid=topology-view]').exists()).toBe(true);
    await app.get('[data-testid=nav-hosts]').trigger('click');
    expect(app.find('[data-testid=topology-view]').exists()).toBe(false);
  });

  it('toggles the theme on :root and remembers it', async () => {
    const app = await mountApp();
    const before = document.documentElement.dataset.theme;
    await app.get('[data-testid=toggle-theme]').trigger('click');
    const after = before === 'dark' ? 'light' : 'dark';
    expect(document.documentElement.dataset.theme).toBe(after);
    expect(window.localStorage.getItem(THEME_STORAGE_KEY)).toBe(after);
    app.unmount();
    wrapper = null;
    setActivePinia(createPinia());
    expect(useAppStore().theme).toBe(after);
  });

  it('opens the log drawer with Ctrl+L and switches tabs with Alt+2 and "g h"', async () => {
    const app = await mountApp();
    press('l', { ctrlKey: true });
    await flushPromises();
    expect(app.find('[data-testid=log-drawer]').exists()).toBe(true);
    expect(api.getCommandLog).toHaveBeenCalledWith({ limit: 500 });
    press('2', { altKey: true, code: 'Digit2' });
    await flushPromises();
    expect(app.find('[data-testid=topology-view]').exists()).toBe(true);
    press('g');
    press('h');
    await flushPromises();
    expect(app.find('[data-testid=topology-view]').exists()).toBe(false);
  });

  it('shows the shortcuts help on "?"', async () => {
    const app = await mountApp();
    press('?', { shiftKey: true });
    await flushPromises();
    expect(app.get('[data-testid=shortcuts-help]').text()).toContain('Ctrl/Cmd+L');
  });

  it('acts on menu events: tabs, save requests, and the workspace dialog in browser mode', async () => {
    const app = await mountApp();
    const store = useAppStore();
    api.emit({ type: 'menu', action: 'show-topology' });
    api.emit({ type: 'menu', action: 'save-workspace' });
    api.emit({ type: 'menu', action: 'open-workspace' });
    await flushPromises();
    expect(store.tab).toBe('topology');
    expect(store.saveRequests).toBe(1);
    api.openWorkspace.mockResolvedValue(workspaceInfo('/srv/lab2'));
    await app.get('[data-testid=workspace-dir]').setValue('/srv/lab2');
    await app.get('[data-testid=workspace-form]').trigger('submit');
    await flushPromises();
    expect(api.openWorkspace).toHaveBeenCalledWith({ dir: '/srv/lab2', create: false });
    expect(app.find('[data-testid=workspace-dialog]').exists()).toBe(false);
  });

  it('lists recent workspaces in the Open dialog (not the open one); one click opens it', async () => {
    const app = await mountApp();
    api.emit({ type: 'menu', action: 'open-workspace' });
    await flushPromises();
    const recent = app.findAll('[data-testid=workspace-recent]');
    expect(recent.map((entry) => entry.text())).toEqual(['/srv/old']);
    api.openWorkspace.mockResolvedValue(workspaceInfo('/srv/old'));
    await recent[0]?.trigger('click');
    await flushPromises();
    expect(api.openWorkspace).toHaveBeenCalledWith({ dir: '/srv/old', create: false });
    expect(app.find('[data-testid=workspace-dialog]').exists()).toBe(false);
  });

  it('unsubscribes from events when unmounted', async () => {
    const app = await mountApp();
    expect(api.listenerCount()).toBe(1);
    app.unmount();
    wrapper = null;
    expect(api.listenerCount()).toBe(0);
  });
});

describe('jobs and the demo lab', () => {
  it('starts the demo as a job, then reloads hosts and opens its topology in the Topology tab', async () => {
    const app = await mountApp();
    await app.get('[data-testid=demo-start]').trigger('click');
    await flushPromises();
    expect(api.startDemoLab).toHaveBeenCalled();
    expect(app.get('[data-testid=job-progress]').attributes('data-kind')).toBe('demo-start');
    api.emit({ type: 'job-progress', jobId: 'job-demo', done: 1, total: 3, message: 'starting h1' });
    await flushPromises();
    expect(app.get('[data-testid=job-progress]').text()).toContain('1/3');
    api.listHosts.mockResolvedValue([sshHostView('h1', { demo: true })]);
    api.getAppInfo.mockResolvedValue(appInfo({ available: true, running: DEMO }));
    api.emit({ type: 'job-finished', jobId: 'job-demo', kind: 'demo-start', outcome: 'succeeded', result: { kind: 'demo-start', demo: DEMO } });
    await flushPromises();
    const store = useAppStore();
    expect(store.demoTopology).toEqual({ name: 'demo', text: DEMO.topologyText });
    expect(store.tab).toBe('topology');
    expect(app.find('[data-testid=job-progress]').exists()).toBe(false);
    expect(app.find('[data-testid=demo-stop]').exists()).toBe(true);
    await app.get('[data-testid=nav-hosts]').trigger('click');
    expect(app.find('[data-testid=host-row-h1]').exists()).toBe(true);
  });

  it('cancels a running job from the progress strip and shows a failed job’s error until dismissed', async () => {
    const app = await mountApp();
    api.emit({ type: 'job-started', jobId: 'job-7', kind: 'apply', title: 'Applying lab1' });
    await flushPromises();
    await app.get('[data-testid=job-cancel]').trigger('click');
    expect(api.cancelJob).toHaveBeenCalledWith({ jobId: 'job-7' });
    api.emit({ type: 'job-finished', jobId: 'job-7', kind: 'apply', outcome: 'failed', error: { code: 'apply-failed', message: 'node1: RTNETLINK answers: File exists; run Sweep' } });
    await flushPromises();
    expect(app.get('[data-testid=job-error]').text()).toContain('RTNETLINK answers: File exists; run Sweep');
    await app.get('[data-testid=job-error-dismiss]').trigger('click');
    expect(app.find('[data-testid=job-error]').exists()).toBe(false);
  });

  it('explains why the demo lab is unavailable', async () => {
    api.getAppInfo.mockResolvedValue(appInfo({ available: false, reason: 'cnlab runs as an unprivileged user without passwordless sudo', running: null }));
    const app = await mountApp();
    expect(app.find('[data-testid=demo-start]').exists()).toBe(false);
    expect(app.get('[data-testid=demo-unavailable]').attributes('title')).toContain('without passwordless sudo');
    expect(app.get('[data-testid=testbed-howto]').text()).toContain('sudo npm run testbed:up');
  });
});
