// Human-readable summary of a host's probed facts for `cnlab hosts probe`: one screen per host,
// kernel features as ✓ / ✗ / ? with the reason for each missing one.
import { KERNEL_FEATURES, type HostFacts } from '../core/hosts/host-facts';

function mark(supported: boolean | 'unknown'): string {
  if (supported === 'unknown') return '?';
  return supported ? '✓' : '✗';
}

function gib(bytes: number | null): string {
  return bytes === null ? 'unknown memory' : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

export function formatFactsSummary(hostName: string, facts: HostFacts): string {
  const lines: string[] = [];
  const os = facts.os.prettyName ?? facts.os.name ?? 'unknown OS';
  const virt = facts.virtualization.technology ? `${facts.virtualization.kind} (${facts.virtualization.technology})` : facts.virtualization.kind;
  lines.push(`${hostName}: ${facts.hostname ?? '?'} — ${os}, kernel ${facts.kernel.release ?? 'unknown'} ${facts.arch ?? ''}`.trimEnd());
  lines.push(`  cpu: ${facts.cpu.count ?? '?'} × ${facts.cpu.model ?? 'unknown model'}; ${gib(facts.memoryBytes)}; ${virt}; privilege: ${facts.privilege.kind}`);
  lines.push(`  features: ${KERNEL_FEATURES.map((name) => `${name} ${mark(facts.kernelFeatures[name]?.supported ?? 'unknown')}`).join('  ')}`);
  for (const name of KERNEL_FEATURES) {
    const feature = facts.kernelFeatures[name];
    if (feature && feature.supported !== true && feature.reason) lines.push(`    ${name}: ${feature.reason}`);
  }
  for (const nic of facts.nics) {
    const speed = nic.speedMbps ? `${nic.speedMbps} Mb/s` : 'speed ?';
    lines.push(`  nic ${nic.name}${nic.isManagement ? ' (management)' : ''}: mtu ${nic.mtu ?? '?'}, ${speed}, ${nic.driver ?? nic.kind ?? 'driver ?'}, ${nic.addresses.join(' ') || 'no address'}`);
  }
  const tools = Object.entries(facts.tools)
    .filter(([name]) => name !== 'iptablesBackend')
    .map(([name, value]) => `${name} ${value ?? '—'}`);
  lines.push(`  tools: ${tools.join(', ')}`);
  lines.push(`  cni plugins: ${facts.cniPluginsDir ? `${facts.cniPluginsDir} (${facts.cniPlugins.length})` : 'none found'}`);
  for (const warning of facts.warnings) lines.push(`  warning: ${warning}`);
  lines.push(`  probed in ${Math.round(facts.probeDurationMs)} ms at ${facts.probedAt}`);
  return `${lines.join('\n')}\n`;
}
