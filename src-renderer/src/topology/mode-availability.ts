// Which network modes the chosen lab hosts can run, decided from their probed facts: a mode is offered
// unless a chosen host's facts say a kernel feature it needs is missing, or (runtime docker) its Docker
// engine is absent or lacks the mode's driver; then the reason is given.
import { MODE_FEATURES, MODES, type HostFacts, type NetworkMode } from '@contract/topology';

export interface ModeChoice {
  mode: NetworkMode;
  disabled: boolean;
  /** Why it is disabled, per host: "not on h2: <the probe's reason>". */
  reason: string;
  /** The text of its option in the mode picker. */
  label: string;
}

export interface HostFactsEntry {
  name: string;
  facts: HostFacts | null;
}

/** Hosts not probed yet give no reason to refuse: the check against facts on apply decides then. */
function missingOn(mode: NetworkMode, host: HostFactsEntry): string | null {
  if (!host.facts) return null;
  for (const feature of MODE_FEATURES[mode]) {
    const support = host.facts.kernelFeatures[feature];
    if (support?.supported === false) return `not on ${host.name}: ${support.reason ?? `the kernel has no ${feature}`}`;
  }
  return null;
}

/** Docker's driver for each mode; routed has none. */
const DOCKER_DRIVERS: Readonly<Record<NetworkMode, string | null>> = { none: 'null', host: 'host', bridge: 'bridge', nat: 'bridge', macvlan: 'macvlan', ipvlan: 'ipvlan', vxlan: 'overlay', routed: null };

function missingUnderDocker(mode: NetworkMode, host: HostFactsEntry): string | null {
  const driver = DOCKER_DRIVERS[mode];
  if (driver === null) return 'Docker has no driver for it (use runtime netns)';
  if (!host.facts) return null;
  if (host.facts.tools.dockerServer === null) return `not on ${host.name}: no Docker engine answered the probe`;
  const drivers = host.facts.docker?.networkDrivers ?? [];
  if (drivers.length > 0 && !drivers.includes(driver)) return `not on ${host.name}: its Docker engine has no ${driver} driver`;
  return null;
}

export function modeChoices(hosts: readonly HostFactsEntry[], runtime: 'netns' | 'docker' = 'netns'): ModeChoice[] {
  return MODES.map((mode) => {
    const docker = runtime === 'docker' ? [...new Set(hosts.map((host) => missingUnderDocker(mode, host)))] : [];
    const reasons = [...hosts.map((host) => missingOn(mode, host)), ...docker].filter((reason): reason is string => reason !== null);
    const reason = reasons.join('; ');
    return { mode, disabled: reasons.length > 0, reason, label: reasons.length > 0 ? `${mode} — ${reason}` : mode };
  });
}
