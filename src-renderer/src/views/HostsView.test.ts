// The Hosts view with the API swapped for the test double: the form validates live and tests a saved host
// at once; an unknown key asks for trust with its fingerprint; a changed key is refused with no way to
// accept; the facts panel shows kernel features as badges with reasons.
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabApiError, type HostView } from '@contract/lab-api';
import { setLabApi } from '../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../test-support/fake-lab-api';
import { sampleFacts, sshHostView } from '../components/hosts/host-view-fixtures';
import HostsView from './HostsView.vue';

const FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
let api: FakeLabApi;
let wrapper: VueWrapper | null = null;

function connectedCheck(host: string) {
  return Promise.resolve({ host, connectMs: 14, execRoundTripMs: 2, privilege: 'root' as const });
}

async function mountView(hosts: HostView[]): Promise<VueWrapper> {
  api.listHosts.mockResolvedValue(hosts);
  wrapper = mount(HostsView, { attachTo: document.body });
  await flushPromises();
  return wrapper;
}

beforeEach(() => {
  const pinia = createPinia();
  setActivePinia(pinia);
  api = createFakeLabApi();
  setLabApi(api);
});

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
});

describe('host form', () => {
  it('shows a message per field as the user types, and does not save an invalid host', async () => {
    const view = await mountView([]);
    await view.get('[data-testid=add-host]').trigger('click');
    await view.get('[data-testid=host-name]').setValue('bad name!');
    await view.get('[data-testid=host-port]').setValue('70000');
    expect(view.get('[data-testid=host-name-error]').text()).toContain('a host name has 1-63 letters');
    expect(view.get('[data-testid=host-port-error]').text()).toContain('a port is a number from 1 to 65535');
    expect(view.find('[data-testid=host-address-error]').exists()).toBe(false);
    await view.get('[data-testid=host-form]').trigger('submit');
    expect(view.get('[data-testid=host-address-error]').text()).toContain('enter the host name or IP address');
    expect(api.saveHost).not.toHaveBeenCalled();
  });

  it('asks for the variable name when the password comes from the environment', async () => {
    const view = await mountView([]);
    await view.get('[data-testid=add-host]').trigger('click');
    await view.get('[data-testid=host-auth]').setValue('password');
    await view.get('[data-testid=host-form]').trigger('submit');
    expect(view.get('[data-testid=host-password-env-error]').text()).toContain('NAME of the environment variable');
  });

  it('saves a new host and tests its connection at once', async () => {
    const saved = sshHostView('node1');
    api.saveHost.mockResolvedValue(saved);
    api.checkHost.mockImplementation(({ name }) => connectedCheck(name));
    const view = await mountView([]);
    await view.get('[data-testid=add-host]').trigger('click');
    await view.get('[data-testid=host-name]').setValue('node1');
    await view.get('[data-testid=host-address]').setValue('10.0.0.11');
    await view.get('[data-testid=host-port]').setValue('2222');
    await view.get('[data-testid=host-form]').trigger('submit');
    await flushPromises();
    expect(api.saveHost).toHaveBeenCalledWith({
      host: expect.objectContaining({ kind: 'ssh', name: 'node1', address: '10.0.0.11', port: 2222, auth: { type: 'key', keyFile: '~/.ssh/id_ed25519', passphraseEnv: undefined } }) as unknown,
    });
    expect(api.checkHost).toHaveBeenCalledWith({ name: 'node1' });
    expect(view.get('[data-testid=host-row-node1]').attributes('data-state')).toBe('connected');
    expect(view.find('[data-testid=host-form]').exists()).toBe(false);
  });
});

describe('host keys', () => {
  it('opens the trust dialog with the fingerprint of an unknown key, and Trust sends exactly that fingerprint', async () => {
    api.checkHost.mockRejectedValue(
      new LabApiError({ code: 'host-key-unknown', message: 'node1 presented ssh-ed25519 key …, which no known_hosts file lists', details: { host: '10.0.0.15', port: 22, keyType: 'ssh-ed25519', fingerprint: FINGERPRINT } }),
    );
    api.trustHostKey.mockImplementation(({ name }) => connectedCheck(name));
    const view = await mountView([sshHostView('node1')]);
    await view.get('[data-testid=host-check]').trigger('click');
    await flushPromises();
    const dialog = view.get('[data-testid=trust-dialog]');
    expect(dialog.get('[data-testid=trust-fingerprint]').text()).toBe(FINGERPRINT);
    expect(dialog.text()).toContain('ssh-ed25519');
    expect(dialog.text()).toContain('10.0.0.15:22');
    expect(dialog.text()).toContain('ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub');
    expect(view.get('[data-testid=host-row-node1]').attributes('data-state')).toBe('key-unknown');
    await dialog.get('[data-testid=trust-accept]').trigger('click');
    await flushPromises();
    expect(api.trustHostKey).toHaveBeenCalledWith({ name: 'node1', fingerprint: FINGERPRINT });
    expect(view.find('[data-testid=trust-dialog]').exists()).toBe(false);
    expect(view.get('[data-testid=host-row-node1]').attributes('data-state')).toBe('connected');
  });

  it('Cancel closes the trust dialog without trusting', async () => {
    api.checkHost.mockRejectedValue(new LabApiError({ code: 'host-key-unknown', message: 'unknown key', details: { fingerprint: FINGERPRINT, keyType: 'ssh-ed25519' } }));
    const view = await mountView([sshHostView('node1')]);
    await view.get('[data-testid=host-check]').trigger('click');
    await flushPromises();
    await view.get('[data-testid=trust-cancel]').trigger('click');
    expect(view.find('[data-testid=trust-dialog]').exists()).toBe(false);
    expect(api.trustHostKey).not.toHaveBeenCalled();
  });

  it('refuses a changed key with its message and offers only Close', async () => {
    const message = "10.0.0.15 presented ssh-ed25519 key SHA256:new…, but ~/.ssh/known_hosts line 3 hold(s) SHA256:old…; remove the old key: ssh-keygen -R '10.0.0.15' -f '~/.ssh/known_hosts'";
    api.checkHost.mockRejectedValue(new LabApiError({ code: 'host-key-changed', message, details: { fingerprint: FINGERPRINT } }));
    const view = await mountView([sshHostView('node1')]);
    await view.get('[data-testid=host-check]').trigger('click');
    await flushPromises();
    const dialog = view.get('[data-testid=key-changed-dialog]');
    expect(dialog.get('[data-testid=key-changed-message]').text()).toBe(message);
    expect(dialog.findAll('button').map((button) => button.attributes('data-testid'))).toEqual(['key-changed-close']);
    expect(view.find('[data-testid=trust-dialog]').exists()).toBe(false);
    expect(view.get('[data-testid=host-row-node1]').attributes('data-state')).toBe('key-changed');
    await dialog.get('[data-testid=key-changed-close]').trigger('click');
    expect(view.find('[data-testid=key-changed-dialog]').exists()).toBe(false);
    expect(api.trustHostKey).not.toHaveBeenCalled();
  });

  it('shows any other failure as a message, not a dialog', async () => {
    api.checkHost.mockRejectedValue(new LabApiError({ code: 'host-unreachable', message: 'cannot reach 10.0.0.15 port 22: connection refused; is sshd running?' }));
    const view = await mountView([sshHostView('node1')]);
    await view.get('[data-testid=host-check]').trigger('click');
    await flushPromises();
    expect(view.get('[data-testid=error-banner]').text()).toContain('is sshd running?');
    expect(view.get('[data-testid=host-row-node1]').attributes('data-state')).toBe('unreachable');
  });
});

describe('facts panel', () => {
  it('shows kernel features as badges and a missing one’s reason on click', async () => {
    const view = await mountView([sshHostView('node1', { facts: sampleFacts() })]);
    await view.get('[data-testid=host-row-node1]').trigger('click');
    const panel = view.get('[data-testid=facts-panel]');
    expect(panel.get('[data-testid=feature-macvlan]').attributes('data-supported')).toBe('true');
    expect(panel.get('[data-testid=feature-macvlan]').text()).toBe('✓ macvlan');
    const ipvlan = panel.get('[data-testid=feature-ipvlan]');
    expect(ipvlan.attributes('data-supported')).toBe('false');
    expect(ipvlan.attributes('title')).toBe('Error: Unknown device type.');
    expect(panel.get('[data-testid=feature-wireguard]').attributes('data-supported')).toBe('unknown');
    await ipvlan.trigger('click');
    expect(panel.get('[data-testid=feature-reason]').text()).toContain('Error: Unknown device type.');
    expect(panel.get('[data-testid=tool-iperf3]').text()).toContain('3.12');
    expect(panel.get('[data-testid=tool-sockperf]').classes()).toContain('missing');
    expect(panel.get('[data-testid=nic-eth0]').text()).toContain('management');
    expect(panel.text()).toContain('6.1.0-27-amd64');
  });

  it('re-probes the selected host and shows the new facts', async () => {
    const facts = { ...sampleFacts(), kernel: { release: '6.12.0-1-amd64', configSource: null } };
    api.probeHost.mockResolvedValue(facts);
    const view = await mountView([sshHostView('node1', { facts: sampleFacts() })]);
    await view.get('[data-testid=host-row-node1]').trigger('click');
    await view.get('[data-testid=facts-reprobe]').trigger('click');
    await flushPromises();
    expect(api.probeHost).toHaveBeenCalledWith({ name: 'node1' });
    expect(view.get('[data-testid=facts-panel]').text()).toContain('6.12.0-1-amd64');
  });
});

describe('empty inventory', () => {
  it('teaches the three ways to add a host and how to start the testbed when the demo cannot run', async () => {
    const view = await mountView([]);
    const empty = view.get('[data-testid=hosts-empty]');
    expect(empty.text()).toContain('Add your first lab host');
    expect(empty.text()).toContain('Import ~/.ssh/config');
    expect(empty.get('[data-testid=testbed-howto]').text()).toContain('sudo npm run testbed:up');
  });

  it('adds this machine as the local host', async () => {
    api.saveHost.mockResolvedValue({ host: { kind: 'local', name: 'local' }, state: 'unknown', facts: null });
    api.checkHost.mockImplementation(({ name }) => connectedCheck(name));
    const view = await mountView([]);
    await view.get('[data-testid=add-this-machine]').trigger('click');
    await flushPromises();
    expect(api.saveHost).toHaveBeenCalledWith({ host: { kind: 'local', name: 'local' } });
    expect(view.get('[data-testid=host-row-local]').text()).toContain('This machine');
  });
});

describe('import from an SSH config', () => {
  it('previews the file, marks names that would replace a host, and imports the chosen ones', async () => {
    api.previewSshConfigImport.mockResolvedValue({
      file: '/tmp/testbed/ssh_config',
      hosts: [sshHostView('h1').host, sshHostView('node1').host],
      existing: ['node1'],
      warnings: ['h3: ProxyCommand is not supported; use ProxyJump'],
    });
    api.importSshConfigHosts.mockResolvedValue([sshHostView('h1')]);
    const view = await mountView([sshHostView('node1')]);
    await view.get('[data-testid=import-ssh-config]').trigger('click');
    await view.get('[data-testid=import-file]').setValue('/tmp/testbed/ssh_config');
    await view.get('[data-testid=import-preview]').trigger('submit');
    await flushPromises();
    expect(api.previewSshConfigImport).toHaveBeenCalledWith({ file: '/tmp/testbed/ssh_config' });
    expect(view.get('[data-testid=import-row-node1]').text()).toContain('replaces');
    expect(view.get('[data-testid=import-row-h1]').text()).not.toContain('replaces');
    expect(view.get('[data-testid=import-warnings]').text()).toContain('ProxyCommand is not supported');
    await view.get('[data-testid=import-confirm]').trigger('click');
    await flushPromises();
    expect(api.importSshConfigHosts).toHaveBeenCalledWith({ file: '/tmp/testbed/ssh_config', names: ['h1'] });
    expect(view.find('[data-testid=import-dialog]').exists()).toBe(false);
    expect(view.find('[data-testid=host-row-h1]').exists()).toBe(true);
  });
});

describe('editing', () => {
  it('fills the form from the host and saves it under its original name', async () => {
    const original = sshHostView('node1', {
      host: { kind: 'ssh', name: 'node1', address: '10.0.0.15', port: 22, user: 'root', auth: { type: 'key', keyFile: '~/.ssh/id_ed25519' }, knownHostsFiles: ['/tmp/testbed/known_hosts'] },
    });
    api.saveHost.mockImplementation(({ host }) => Promise.resolve({ ...original, host: { ...original.host, ...host } as typeof original.host }));
    api.checkHost.mockImplementation(({ name }) => connectedCheck(name));
    const view = await mountView([original]);
    await view.get('[data-testid=host-edit]').trigger('click');
    expect((view.get('[data-testid=host-address]').element as HTMLInputElement).value).toBe('10.0.0.15');
    await view.get('[data-testid=host-label]').setValue('vm');
    await view.get('[data-testid=host-form]').trigger('submit');
    await flushPromises();
    expect(api.saveHost).toHaveBeenCalledWith({ host: expect.objectContaining({ name: 'node1', label: 'vm', knownHostsFiles: ['/tmp/testbed/known_hosts'] }) as unknown, originalName: 'node1' });
  });
});

