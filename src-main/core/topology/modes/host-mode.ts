// Host mode: the container is a process in the host's own namespace, so it creates nothing and its
// interface is the management NIC with the address cnlab reaches the host at.
import type { PlannedInterface } from '../plan';
import { hostInfo, type PlanInputs } from './common';

export function hostModeInterface(inputs: PlanInputs, network: string, host: string): PlannedInterface {
  const info = hostInfo(inputs, host);
  const address = info.address;
  // Keep the NIC's own prefix length when the address is one of its addresses.
  const cidr = address === null ? null : (info.nic?.addresses.find((text) => text.split('/')[0] === address) ?? `${address}/32`);
  return { network, ifname: info.nic?.name ?? '', address: cidr, hostDevice: null };
}
