// Private account files for the emulated hosts: passwd, shadow, group, sudoers and hosts.
// They are bind-mounted inside each host's mount namespace only; the machine's real files are read, never changed.
import { readFileSync } from 'node:fs';
import { runOk } from './exec.ts';

export interface TestUser {
  name: string;
  uid: number;
  home: string;
  sudo: boolean;
}

/** Homes live on the host's private /run tmpfs, so they vanish with the host. */
export const TEST_USERS: readonly TestUser[] = [
  { name: 'bob', uid: 1001, home: '/run/home/bob', sudo: false },
  { name: 'alice', uid: 1002, home: '/run/home/alice', sudo: true },
];

const PASSWORD_USERS = new Set(['root', ...TEST_USERS.map((user) => user.name)]);

export interface AccountFiles {
  passwd: string;
  shadow: string;
  group: string;
  sudoers: string;
}

export async function hashPassword(password: string): Promise<string> {
  return (await runOk('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n` })).trim();
}

/** Drops entries that would clash with the test users by name or by id. */
function withoutClashes(lines: string[]): string[] {
  const names = new Set(TEST_USERS.map((user) => user.name));
  const ids = new Set(TEST_USERS.map((user) => String(user.uid)));
  return lines.filter((line) => {
    const [name, , id] = line.split(':');
    return line.trim() !== '' && name !== undefined && !names.has(name) && !(id !== undefined && ids.has(id));
  });
}

function readLines(path: string): string[] {
  return readFileSync(path, 'utf8').split('\n');
}

export function buildAccountFiles(passwordHash: string): AccountFiles {
  // System users (sshd's privilege-separation user above all) are kept from the real passwd.
  const passwdLines = [
    ...withoutClashes(readLines('/etc/passwd')),
    ...TEST_USERS.map((user) => `${user.name}:x:${user.uid}:${user.uid}:${user.name}:${user.home}:/bin/sh`),
  ];
  const groupLines = [
    ...withoutClashes(readLines('/etc/group')),
    ...TEST_USERS.map((user) => `${user.name}:x:${user.uid}:`),
  ];
  // Real hashes are never copied: system users get '*' (no password login, key login still allowed).
  const today = Math.floor(Date.now() / 86_400_000);
  const shadowLines = passwdLines.map((line) => {
    const name = line.split(':')[0] ?? '';
    const hash = PASSWORD_USERS.has(name) ? passwordHash : '*';
    return `${name}:${hash}:${today}:0:99999:7:::`;
  });
  return {
    passwd: `${passwdLines.join('\n')}\n`,
    shadow: `${shadowLines.join('\n')}\n`,
    group: `${groupLines.join('\n')}\n`,
    sudoers: buildSudoers(),
  };
}

function buildSudoers(): string {
  return [
    '# cnlab testbed: private sudoers, bind-mounted on the emulated hosts only.',
    'Defaults env_reset',
    'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    // No mail and no syslog: a refused sudo on a test host must not reach the machine's mail or logs.
    'Defaults !lecture, !mail_badpass, !mail_no_user, !syslog',
    'root ALL=(ALL:ALL) ALL',
    ...TEST_USERS.filter((user) => user.sudo).map((user) => `${user.name} ALL=(ALL) NOPASSWD: ALL`),
    '',
  ].join('\n');
}

/** Names resolve without DNS (sudo looks up its own hostname; a lookup must not leave the lab). */
export function buildHostsFile(runnerAddress: string, hosts: readonly { name: string; address: string }[]): string {
  return [
    '127.0.0.1 localhost',
    '::1 localhost ip6-localhost ip6-loopback',
    `${runnerAddress} runner`,
    ...hosts.map((host) => `${host.address} ${host.name}`),
    '',
  ].join('\n');
}
