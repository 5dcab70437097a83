// Writes a cnlab workspace whose inventory lists the testbed's hosts, so `cnlab --workspace <dir>`
// works at once: key auth as root, host keys trusted through the testbed's own known_hosts.
import { join } from 'node:path';
import { HostInventory } from '../hosts/inventory';

export interface InventoryHost {
  name: string;
  address: string;
  port: number;
}

export async function writeTestbedWorkspace(dir: string, hosts: readonly InventoryHost[], keyFile: string, knownHostsFile: string): Promise<string> {
  const workspaceDir = join(dir, 'workspace');
  const inventory = await HostInventory.load(workspaceDir);
  for (const host of hosts) {
    inventory.add({
      name: host.name,
      kind: 'ssh',
      address: host.address,
      port: host.port,
      user: 'root',
      auth: { type: 'key', keyFile },
      knownHostsFiles: [knownHostsFile],
      label: 'vm',
      notes: 'cnlab lab-in-a-box testbed host',
    });
  }
  await inventory.save();
  return workspaceDir;
}
