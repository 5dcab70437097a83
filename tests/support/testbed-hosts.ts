// Test helpers that turn a running testbed into cnlab inventory hosts and a HostService,
// each with its own throwaway workspace and config folder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostInput } from '../../src-main/core/hosts/host-model';

type SshHostInput = Extract<HostInput, { kind: 'ssh' }>;
import { HostService } from '../../src-main/core/hosts/host-service';
import { envSecretLookup } from '../../src-main/core/hosts/secret-store';
import type { Testbed } from '../../src-main/core/testbed/testbed.ts';

export interface ServiceFixture {
  service: HostService;
  workspaceDir: string;
  configDir: string;
  homeDir: string;
  dispose(): Promise<void>;
}

/**
 * An inventory entry named `name` for a testbed host (by default the one named by the part before
 * the first "-", so "h1-bob" is h1); key auth as root and the testbed's known_hosts by default.
 */
export function testbedHost(testbed: Testbed, name: string, overrides: Partial<SshHostInput> = {}, testbedName = name.split('-')[0] ?? name): HostInput {
  const host = testbed.host(testbedName);
  return {
    name,
    kind: 'ssh',
    address: host.address,
    port: host.port,
    user: 'root',
    auth: { type: 'key', keyFile: testbed.clientKeyPath },
    knownHostsFiles: [testbed.knownHostsPath],
    ...overrides,
  };
}

export async function openTestService(
  hosts: HostInput[],
  env: Record<string, string> = {},
  options: { connectTimeoutMs?: number } = {},
): Promise<ServiceFixture> {
  const scratch = mkdtempSync(join(tmpdir(), 'cnlab-test-'));
  const fixture = {
    workspaceDir: join(scratch, 'workspace'),
    configDir: join(scratch, 'config'),
    homeDir: join(scratch, 'home'),
  };
  const service = await HostService.open({ ...fixture, secrets: envSecretLookup(env), ...options });
  for (const host of hosts) service.inventory.add(host);
  return {
    ...fixture,
    service,
    async dispose() {
      await service.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** A testbed host's key fingerprint as OpenSSH prints it (SHA256:…), read independently of cnlab. */
export function hostKeyFingerprint(testbed: Testbed, name: string): string {
  return execFileSync('ssh-keygen', ['-lf', `${testbed.host(name).hostKeyPath}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
}
