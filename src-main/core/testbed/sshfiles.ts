// SSH material of a testbed: client keys, host keys, sshd_config per host, ssh_config and known_hosts for clients.
// Everything lives in the run directory so a person can use the testbed with plain `ssh -F <dir>/ssh_config h1`.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runOk } from './exec.ts';

export interface SshHostFiles {
  name: string;
  address: string;
  port: number;
  dir: string;
  hostKeyPath: string;
}

export function hostKeyPath(hostDir: string): string {
  return join(hostDir, 'ssh_host_ed25519_key');
}

/** ssh-keygen writes the private key 0600 itself; an existing key is replaced. */
export async function generateKey(path: string, comment: string, passphrase = ''): Promise<void> {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', path]);
}

export function publicKey(path: string): string {
  return readFileSync(`${path}.pub`, 'utf8').trim();
}

export function writeSshdConfig(host: SshHostFiles, authorizedKeysPath: string): string {
  const path = join(host.dir, 'sshd_config');
  const lines = [
    `# cnlab testbed sshd for ${host.name}`,
    `ListenAddress ${host.address}`,
    `Port ${host.port}`,
    `HostKey ${host.hostKeyPath}`,
    'PermitRootLogin yes',
    'PasswordAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'PubkeyAuthentication yes',
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    // The keys file sits in /tmp, owned by root, shared by every user: strict modes would refuse it.
    'StrictModes no',
    'AllowTcpForwarding yes',
    'PidFile /run/sshd.pid',
    'LogLevel ERROR',
    // Tests open many connections at once; the default 10:30:100 drops some of them at random.
    'MaxStartups 200',
    'PrintMotd no',
    'PrintLastLog no',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ];
  writeFileSync(path, lines.join('\n'), { mode: 0o644 });
  return path;
}

export function writeAuthorizedKeys(path: string, publicKeys: string[]): void {
  writeFileSync(path, `${publicKeys.join('\n')}\n`, { mode: 0o644 });
}

export function writeKnownHosts(path: string, hosts: readonly SshHostFiles[]): void {
  const lines = hosts.map((host) => {
    const [type, key] = publicKey(host.hostKeyPath).split(' ');
    const name = host.port === 22 ? host.address : `[${host.address}]:${host.port}`;
    return `${name} ${type} ${key}`;
  });
  writeFileSync(path, `${lines.join('\n')}\n`, { mode: 0o644 });
}

export function writeSshConfig(
  path: string,
  hosts: readonly SshHostFiles[],
  files: { identity: string; knownHosts: string },
): void {
  const blocks = hosts.map((host) =>
    [
      `Host ${host.name}`,
      `  HostName ${host.address}`,
      `  Port ${host.port}`,
      '  User root',
      `  IdentityFile ${files.identity}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${files.knownHosts}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  ConnectTimeout 5',
      '  LogLevel ERROR',
    ].join('\n'),
  );
  writeFileSync(path, `# cnlab testbed; removed at teardown\n\n${blocks.join('\n\n')}\n`, { mode: 0o644 });
}
