// The hosts store follows the server: host-state events replace a host's view, hosts-changed reloads the
// list, and checks mark the host with the state their outcome means.
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { LabApiError } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { sshHostView } from '../components/hosts/host-view-fixtures';
import { useHostsStore } from './hosts-store';

let api: FakeLabApi;

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeLabApi({ listHosts: () => Promise.resolve([sshHostView('node2'), sshHostView('node1')]) });
  setLabApi(api);
});

describe('hosts store', () => {
  it('loads the inventory sorted by name', async () => {
    const store = useHostsStore();
    await store.load();
    expect(store.hosts.map((view) => view.host.name)).toEqual(['node1', 'node2']);
    expect(store.loaded).toBe(true);
  });

  it('replaces a host view from a host-state event and adds hosts it does not know', async () => {
    const store = useHostsStore();
    await store.load();
    store.applyEvent({ type: 'host-state', host: 'node1', view: sshHostView('node1', { state: 'connected', connectMs: 12, privilege: 'root' }) });
    store.applyEvent({ type: 'host-state', host: 'node3', view: sshHostView('node3', { state: 'unreachable' }) });
    expect(store.hosts.map((view) => [view.host.name, view.state])).toEqual([
      ['node1', 'connected'],
      ['node2', 'unknown'],
      ['node3', 'unreachable'],
    ]);
  });

  it('reloads the list on hosts-changed', async () => {
    const store = useHostsStore();
    await store.load();
    api.listHosts.mockResolvedValue([sshHostView('only')]);
    store.applyEvent({ type: 'hosts-changed' });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.hosts.map((view) => view.host.name)).toEqual(['only']);
  });

  it('marks a host key-changed when its check is refused for a changed key', async () => {
    const store = useHostsStore();
    await store.load();
    api.checkHost.mockRejectedValue(new LabApiError({ code: 'host-key-changed', message: 'node1 presented another key' }));
    await expect(store.check('node1')).rejects.toThrow('node1 presented another key');
    expect(store.hosts[0]?.state).toBe('key-changed');
    expect(store.hosts[0]?.stateMessage).toBe('node1 presented another key');
  });

  it('records privilege and connect time of a successful check', async () => {
    const store = useHostsStore();
    await store.load();
    api.checkHost.mockResolvedValue({ host: 'node2', connectMs: 31, execRoundTripMs: 2, privilege: 'sudo' });
    await store.check('node2');
    expect(store.hosts[1]).toMatchObject({ state: 'connected', connectMs: 31, privilege: 'sudo' });
  });

  it('renaming a host replaces the old entry and keeps it selected', async () => {
    const store = useHostsStore();
    await store.load();
    store.select('node1');
    api.saveHost.mockResolvedValue(sshHostView('renamed'));
    await store.save(sshHostView('renamed').host, 'node1');
    expect(api.saveHost).toHaveBeenCalledWith({ host: sshHostView('renamed').host, originalName: 'node1' });
    expect(store.hosts.map((view) => view.host.name)).toEqual(['node2', 'renamed']);
    expect(store.selectedName).toBe('renamed');
  });

  it('adds this machine once', async () => {
    const store = useHostsStore();
    await store.load();
    api.saveHost.mockResolvedValue({ host: { kind: 'local', name: 'local' }, state: 'unknown', facts: null });
    await store.addThisMachine();
    await store.addThisMachine();
    expect(api.saveHost).toHaveBeenCalledTimes(1);
    expect(api.saveHost).toHaveBeenCalledWith({ host: { kind: 'local', name: 'local' } });
  });

  it('keeps the hosts Probe all could not probe, and reloads the facts of the others', async () => {
    const store = useHostsStore();
    await store.load();
    api.listHosts.mockResolvedValue([sshHostView('node1', { state: 'connected' }), sshHostView('node2')]);
    store.applyEvent({
      type: 'job-finished',
      jobId: 'job-9',
      kind: 'probe-all',
      outcome: 'succeeded',
      result: { kind: 'probe-all', hosts: [{ host: 'node1', ok: true }, { host: 'node2', ok: false, error: { code: 'host-unreachable', message: 'node2 did not answer' } }] },
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(store.probeFailures).toEqual([{ host: 'node2', message: 'node2 did not answer' }]);
    expect(store.hosts[0]?.state).toBe('connected');
  });
});
