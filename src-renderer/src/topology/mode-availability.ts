// Which network modes the chosen lab hosts can run, decided from their probed kernel facts: a mode is
// offered unless a chosen host's facts say a kernel feature it needs is missing (then the reason is given).
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

export function modeChoices(hosts: readonly HostFactsEntry[]): ModeChoice[] {
  return MODES.map((mode) => {
    const reasons = hosts.map((host) => missingOn(mode, host)).filter((reason): reason is string => reason !== null);
    const reason = reasons.join('; ');
    return { mode, disabled: reasons.length > 0, reason, label: reasons.length > 0 ? `${mode} — ${reason}` : mode };
  });
}
