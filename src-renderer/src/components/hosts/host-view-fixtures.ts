// HostView and facts samples for the renderer's unit tests (stores, Hosts view, shell), shaped like what
// the hosts area sends; nothing in the app imports this.
import type { HostView } from '@contract/lab-api';
import type { HostFactsView } from '../../stores/hosts-store';

export function sshHostView(name: string, changes: Partial<HostView> = {}): HostView {
  return {
    host: { kind: 'ssh', name, address: `10.0.0.${name.length + 10}`, port: 22, user: 'root', auth: { type: 'key', keyFile: '~/.ssh/id_ed25519' }, knownHostsFiles: [] },
    state: 'unknown',
    facts: null,
    ...changes,
  };
}

export function sampleFacts(): HostFactsView {
  return {
    factsVersion: 1,
    probedAt: '2026-11-22T08:00:00.000Z',
    probeDurationMs: 420,
    probeMode: 'privileged',
    scratchNamespace: { name: 'cnlab-probe-1', removed: true },
    hostname: 'node1',
    os: { id: 'debian', name: 'Debian GNU/Linux', prettyName: 'Debian GNU/Linux 12 (bookworm)', version: '12', versionId: '12' },
    kernel: { release: '6.1.0-27-amd64', configSource: '/boot/config-6.1.0-27-amd64' },
    arch: 'x86_64',
    cpu: { model: 'AMD EPYC', count: 4, online: '0-3' },
    memoryBytes: 8 * 2 ** 30,
    virtualization: { kind: 'vm', technology: 'kvm', source: 'systemd-detect-virt' },
    nics: [
      { name: 'eth0', mtu: 1500, state: 'UP', mac: '52:54:00:00:00:01', speedMbps: 10000, driver: 'virtio_net', kind: null, addresses: ['10.0.0.15/24'], isManagement: true },
      { name: 'eth1', mtu: 9000, state: 'UP', mac: '52:54:00:00:00:02', speedMbps: null, driver: 'virtio_net', kind: null, addresses: [], isManagement: false },
    ],
    defaultRoute: { dev: 'eth0', via: '10.0.0.1', family: 'inet' },
    management: { address: '10.0.0.15', nic: 'eth0', source: 'ssh-connection' },
    kernelFeatures: {
      bridge: { supported: true, source: 'trial' },
      veth: { supported: true, source: 'trial' },
      macvlan: { supported: true, source: 'trial' },
      vxlan: { supported: true, source: 'trial' },
      ipip: { supported: false, source: 'kernel-config', reason: 'CONFIG_NET_IPIP is not set' },
      gre: { supported: false, source: 'kernel-config', reason: 'CONFIG_NET_IPGRE is not set' },
      geneve: { supported: true, source: 'trial' },
      netem: { supported: true, source: 'trial' },
      dummy: { supported: true, source: 'trial' },
      tbf: { supported: true, source: 'trial' },
      htb: { supported: true, source: 'trial' },
      ipvlan: { supported: false, source: 'trial', reason: 'Error: Unknown device type.' },
      wireguard: { supported: 'unknown', source: 'unknown' },
    },
    tools: { iproute2: '6.1.0', iperf3: '3.12', sockperf: null, netperf: null, qperf: null, ping: 'iputils 20221126', nft: '1.0.6', iptables: '1.8.9', iptablesBackend: 'nf_tables', docker: null, dockerServer: null, bird: null, etcd: null },
    cniPluginsDir: '/opt/cni/bin',
    cniPlugins: ['bridge', 'macvlan'],
    privilege: { user: 'root', uid: 0, kind: 'root' },
    warnings: ['cannot read /sys/class/net/eth1/speed: the driver does not report it'],
  };
}
