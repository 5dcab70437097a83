// ssh_config import: in-memory files for the pure part (Include, ~, tokens, jumps, auth choice), real
// files for the shell, and proof that a `Match exec` command never runs during an import.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SSHConfig } from 'ssh-config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import { hostSchema, type HostInput } from './host-model';
import {
  expandGlob,
  globComponentToRegExp,
  importSshConfig,
  importSshConfigText,
  parseJumpHop,
  type ConfigFileSource,
  type ImportEnv,
  type ImportResult,
} from './ssh-config-import';

const HOME = '/home/ann';
const ENV: ImportEnv = { homeDir: HOME, userName: 'ann' };
const CONFIG = `${HOME}/.ssh/config`;

/** Files by absolute path; folders are implied by the paths. */
function memoryFiles(files: Record<string, string>): ConfigFileSource {
  return {
    readFile: (path) => Promise.resolve(files[path]),
    listDir: (dir) => {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = Object.keys(files)
        .filter((path) => path.startsWith(prefix))
        .map((path) => path.slice(prefix.length).split('/')[0] as string);
      return Promise.resolve([...new Set(names)]);
    },
    exists: (path) => Promise.resolve(path in files),
  };
}

function run(config: string, files: Record<string, string> = {}, env: ImportEnv = ENV): Promise<ImportResult> {
  return importSshConfigText(config, CONFIG, env, memoryFiles(files));
}

function byName(result: ImportResult, name: string): Extract<HostInput, { kind: 'ssh' }> {
  const host = result.hosts.find((entry) => entry.name === name);
  if (!host || host.kind !== 'ssh') throw new Error(`no ssh host ${name} in ${JSON.stringify(result.hosts)}`);
  return host;
}

const names = (result: ImportResult): string[] => result.hosts.map((host) => host.name);

describe('hosts from Host aliases', () => {
  it('imports HostName, Port, User and IdentityFile of an alias as an ssh host', async () => {
    const result = await run('Host web\n  HostName 10.0.0.5\n  Port 2222\n  User admin\n  IdentityFile ~/.ssh/lab_key\n');
    expect(result).toEqual({
      hosts: [{ name: 'web', kind: 'ssh', address: '10.0.0.5', port: 2222, user: 'admin', auth: { type: 'key', keyFile: `${HOME}/.ssh/lab_key` }, knownHostsFiles: [] }],
      warnings: [],
    });
  });

  it('defaults the address to the alias, the port to 22 and the user to the local user', async () => {
    const host = byName(await run('Host db\n', { [`${HOME}/.ssh/id_ed25519`]: 'key' }), 'db');
    expect([host.address, host.port, host.user]).toEqual(['db', 22, 'ann']);
  });

  it('imports only concrete aliases, but applies wildcard blocks to them', async () => {
    const result = await run('Host web db\nHost *.lab !x.lab web? *\n  User shared\n', { [`${HOME}/.ssh/id_ed25519`]: 'k' });
    expect(names(result)).toEqual(['web', 'db']);
    expect(result.hosts.map((host) => (host.kind === 'ssh' ? host.user : undefined))).toEqual(['shared', 'shared']);
  });

  it('keeps the first value of a setting, as ssh does', async () => {
    const host = byName(await run('Host web\n  User first\nHost *\n  User second\n  Port 2200\n'), 'web');
    expect([host.user, host.port]).toEqual(['first', 2200]);
  });

  it('skips an alias that cannot be an inventory name and says why', async () => {
    const result = await run('Host ok bad:name\n', { [`${HOME}/.ssh/id_ed25519`]: 'k' });
    expect(names(result)).toEqual(['ok']);
    expect(result.warnings).toEqual([expect.stringMatching(/^Host bad:name: not usable as an inventory name/)]);
  });

  it('produces entries that pass the inventory schema', async () => {
    const result = await run('Host a\n  HostName 10.1.1.1\nHost b\n  ProxyJump a\n', { [`${HOME}/.ssh/id_rsa`]: 'k' });
    for (const host of result.hosts) expect(hostSchema.safeParse(host).success).toBe(true);
  });

  it('warns that StrictHostKeyChecking no is ignored', async () => {
    const result = await run('Host web\n  StrictHostKeyChecking no\n  IdentityFile ~/.ssh/k\n');
    expect(result.warnings).toEqual(['Host web: StrictHostKeyChecking no is ignored; cnlab checks every host key']);
  });

  it('leaves UserKnownHostsFile /dev/null out of the known_hosts files', async () => {
    const host = byName(await run('Host web\n  UserKnownHostsFile /dev/null\n  IdentityFile ~/.ssh/k\n'), 'web');
    expect(host.knownHostsFiles).toEqual([]);
  });
});

describe('auth choice', () => {
  it('uses the first IdentityFile when several are given', async () => {
    const host = byName(await run('Host web\n  IdentityFile ~/.ssh/one\n  IdentityFile ~/.ssh/two\n', {}, { ...ENV, sshAuthSock: '/tmp/agent' }), 'web');
    expect(host.auth).toEqual({ type: 'key', keyFile: `${HOME}/.ssh/one` });
  });

  it('uses the agent when SSH_AUTH_SOCK is set and no IdentityFile is given', async () => {
    const host = byName(await run('Host web\n', { [`${HOME}/.ssh/id_ed25519`]: 'k' }, { ...ENV, sshAuthSock: '/tmp/agent.1' }), 'web');
    expect(host.auth).toEqual({ type: 'agent' });
  });

  it('uses the socket named by IdentityAgent', async () => {
    const host = byName(await run('Host web\n  IdentityAgent ~/.agent.sock\n'), 'web');
    expect(host.auth).toEqual({ type: 'agent', socket: `${HOME}/.agent.sock` });
  });

  it('falls back to ~/.ssh/id_ed25519 when there is no agent', async () => {
    const files = { [`${HOME}/.ssh/id_ed25519`]: 'k', [`${HOME}/.ssh/id_rsa`]: 'k' };
    expect(byName(await run('Host web\n', files), 'web').auth).toEqual({ type: 'key', keyFile: `${HOME}/.ssh/id_ed25519` });
  });

  it('falls back to ~/.ssh/id_rsa when it is the only default key', async () => {
    expect(byName(await run('Host web\n', { [`${HOME}/.ssh/id_rsa`]: 'k' }), 'web').auth).toEqual({ type: 'key', keyFile: `${HOME}/.ssh/id_rsa` });
  });

  it('warns when no key and no agent exist, naming the key file it put in', async () => {
    const result = await run('Host web\n');
    expect(byName(result, 'web').auth).toEqual({ type: 'key', keyFile: `${HOME}/.ssh/id_ed25519` });
    expect(result.warnings).toEqual([expect.stringContaining('Host web: no IdentityFile, no ssh-agent')]);
  });
});

describe('Include', () => {
  it('includes files a glob matches relative to ~/.ssh, in sorted order, skipping hidden files', async () => {
    const files = {
      [`${HOME}/.ssh/conf.d/b.conf`]: 'Host bravo\n',
      [`${HOME}/.ssh/conf.d/a.conf`]: 'Host alpha\n',
      [`${HOME}/.ssh/conf.d/.hidden.conf`]: 'Host hidden\n',
      [`${HOME}/.ssh/conf.d/c.txt`]: 'Host charlie\n',
      [`${HOME}/.ssh/id_ed25519`]: 'k',
    };
    expect(names(await run('Include conf.d/*.conf\n', files))).toEqual(['alpha', 'bravo']);
  });

  it('follows nested includes, expanding ~ in their paths', async () => {
    const files = {
      [`${HOME}/.ssh/conf.d/a.conf`]: 'Include ~/.ssh/nested/*.conf\nHost alpha\n',
      [`${HOME}/.ssh/nested/deep.conf`]: 'Host deep\n  HostName 10.9.9.9\n',
      [`${HOME}/.ssh/id_ed25519`]: 'k',
    };
    const result = await run('Include conf.d/a.conf\n', files);
    expect(names(result)).toEqual(['deep', 'alpha']);
    expect(byName(result, 'deep').address).toBe('10.9.9.9');
  });

  it('resolves a relative Include from an included file against ~/.ssh, not the including folder', async () => {
    const files = {
      [`${HOME}/.ssh/sub/a.conf`]: 'Include b.conf\n',
      [`${HOME}/.ssh/b.conf`]: 'Host bee\n',
      [`${HOME}/.ssh/sub/b.conf`]: 'Host wrong\n',
      [`${HOME}/.ssh/id_ed25519`]: 'k',
    };
    expect(names(await run('Include sub/a.conf\n', files))).toEqual(['bee']);
  });

  it('stops a file that includes itself at the depth limit, with one warning', async () => {
    const files = { [`${HOME}/.ssh/loop.conf`]: 'Include loop.conf\nHost loop\n', [`${HOME}/.ssh/id_ed25519`]: 'k' };
    const result = await run('Include loop.conf\n', files);
    expect(names(result)).toEqual(['loop']);
    expect(result.warnings).toEqual([`${HOME}/.ssh/loop.conf: Include nested more than 16 deep (does a file include itself?); skipped`]);
  });

  it('applies directives after a top-level Include to every host, not to the included last Host block', async () => {
    const files = { [`${HOME}/.ssh/extra.conf`]: 'Host other\n  Port 2022\n', [`${HOME}/.ssh/id_ed25519`]: 'k' };
    const result = await run('Include extra.conf\nUser bob\nHost web\n', files);
    expect([byName(result, 'web').user, byName(result, 'web').port]).toEqual(['bob', 22]);
    expect(byName(result, 'other').user).toBe('bob');
  });

  it('applies a file included inside a Host block to that host only', async () => {
    const files = { [`${HOME}/.ssh/web-common`]: 'User webadmin\nPort 2200\n', [`${HOME}/.ssh/id_ed25519`]: 'k' };
    const result = await run('Host web\n  Include web-common\nHost db\n', files);
    expect([byName(result, 'web').user, byName(result, 'web').port]).toEqual(['webadmin', 2200]);
    expect([byName(result, 'db').user, byName(result, 'db').port]).toEqual(['ann', 22]);
  });

  it('skips Host blocks inside a file included from a Host block, with a warning', async () => {
    const files = { [`${HOME}/.ssh/inner`]: 'User u1\nHost nested\n  User u2\n', [`${HOME}/.ssh/id_ed25519`]: 'k' };
    const result = await run('Host web\n  Include inner\n', files);
    expect(names(result)).toEqual(['web']);
    expect(byName(result, 'web').user).toBe('u1');
    expect(result.warnings).toEqual([expect.stringContaining('has its own Host/Match blocks; those blocks were skipped')]);
  });

  it('warns about a literal Include path that does not exist', async () => {
    const result = await run('Include missing.conf\n');
    expect(result.warnings).toEqual([`${CONFIG}: Include ${HOME}/.ssh/missing.conf: no such file; skipped`]);
  });

  it('stays silent about a glob that matches nothing, as OpenSSH does', async () => {
    expect((await run('Include conf.d/*\n')).warnings).toEqual([]);
  });

  it('skips an included file that does not parse, with a warning, and keeps the rest', async () => {
    const files = { [`${HOME}/.ssh/bad.conf`]: 'Host "unterminated\n', [`${HOME}/.ssh/id_ed25519`]: 'k' };
    const result = await run('Include bad.conf\nHost web\n', files);
    expect(names(result)).toEqual(['web']);
    expect(result.warnings).toEqual([expect.stringMatching(/^\/home\/ann\/\.ssh\/bad\.conf: cannot parse it/)]);
  });

  it('matches glob character classes and ? in include paths', async () => {
    const files = memoryFiles({ '/e/x1/c': '', '/e/x2/c': '', '/e/y1/c': '', '/e/x10/c': '' });
    expect(await expandGlob('/e/[xz]?/c', files)).toEqual(['/e/x1/c', '/e/x2/c']);
    expect(globComponentToRegExp('[!a]*').test('b.conf')).toBe(true);
    expect(globComponentToRegExp('[!a]*').test('a.conf')).toBe(false);
  });
});

describe('~ and % tokens', () => {
  it('expands ~ and %h %p %r %u %d %% in IdentityFile and UserKnownHostsFile', async () => {
    const config = 'Host web\n  HostName web.example\n  Port 2222\n  User admin\n  IdentityFile ~/keys/%h-%p-%r-%u\n  UserKnownHostsFile %d/kh/%h_%%x ~/.ssh/kh2\n';
    const host = byName(await run(config), 'web');
    expect(host.auth).toEqual({ type: 'key', keyFile: `${HOME}/keys/web.example-2222-admin-ann` });
    expect(host.knownHostsFiles).toEqual([`${HOME}/kh/web.example_%x`, `${HOME}/.ssh/kh2`]);
  });

  it('expands %h in HostName to the alias', async () => {
    const host = byName(await run('Host node1\n  HostName %h.lab.example\n  IdentityFile ~/.ssh/k\n'), 'node1');
    expect(host.address).toBe('node1.lab.example');
  });

  it('ignores an IdentityFile with an unsupported token, says so, and uses the next one', async () => {
    const result = await run('Host web\n  IdentityFile ~/.ssh/%C\n  IdentityFile ~/.ssh/ok\n');
    expect(byName(result, 'web').auth).toEqual({ type: 'key', keyFile: `${HOME}/.ssh/ok` });
    expect(result.warnings).toEqual(['Host web: IdentityFile ~/.ssh/%C: uses a % token other than %h %p %r %u %d %n %%; ignored']);
  });

  it("does not guess another user's home for ~user", async () => {
    const result = await run('Host web\n  IdentityFile ~bob/.ssh/k\n  IdentityFile ~ann/.ssh/mine\n');
    expect(byName(result, 'web').auth).toEqual({ type: 'key', keyFile: `${HOME}/.ssh/mine` });
    expect(result.warnings).toEqual([expect.stringContaining("~bob is another user's home folder")]);
  });
});

describe('ProxyJump and ProxyCommand', () => {
  it('sets jump to another imported alias named by ProxyJump', async () => {
    const result = await run('Host bastion\n  HostName 203.0.113.1\nHost web\n  ProxyJump bastion\n', { [`${HOME}/.ssh/id_ed25519`]: 'k' });
    expect(byName(result, 'web').jump).toBe('bastion');
    expect(byName(result, 'bastion').jump).toBeUndefined();
    expect(result.warnings).toEqual([]);
  });

  it('adds an entry named after the host for a user@host:port jump that is no alias, and reports it', async () => {
    const result = await run('Host web\n  ProxyJump admin@gw.example.com:2201\n', { [`${HOME}/.ssh/id_ed25519`]: 'k' });
    expect(names(result)).toEqual(['web', 'gw.example.com']);
    expect(byName(result, 'gw.example.com')).toMatchObject({ address: 'gw.example.com', port: 2201, user: 'admin' });
    expect(byName(result, 'web').jump).toBe('gw.example.com');
    expect(result.warnings).toEqual(['Host web: jump host admin@gw.example.com:2201 is not a Host in the config; added it to the inventory as "gw.example.com"']);
  });

  it('creates one extra entry for a jump host several aliases share', async () => {
    const result = await run('Host a b\n  ProxyJump gw.example.com\n', { [`${HOME}/.ssh/id_ed25519`]: 'k' });
    expect(names(result)).toEqual(['a', 'b', 'gw.example.com']);
  });

  it('skips a host with ProxyCommand and says so', async () => {
    const result = await run('Host db\n  ProxyCommand ssh -W %h:%p gw\n');
    expect(result).toEqual({ hosts: [], warnings: ['Host db: ProxyCommand is not supported; skipped'] });
  });

  it('honours whichever of ProxyJump and ProxyCommand comes first', async () => {
    const result = await run('Host web\n  ProxyCommand none\nHost *\n  ProxyJump gw\n  IdentityFile ~/.ssh/k\n');
    expect(byName(result, 'web').jump).toBeUndefined();
  });

  it('connects a jump host directly when a Host * ProxyJump names it', async () => {
    const result = await run('Host bastion web\nHost *\n  ProxyJump bastion\n  IdentityFile ~/.ssh/k\n');
    expect(byName(result, 'bastion').jump).toBeUndefined();
    expect(byName(result, 'web').jump).toBe('bastion');
  });

  it('skips hosts whose jumps form a loop', async () => {
    const result = await run('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n  IdentityFile ~/.ssh/k\n');
    expect(names(result)).toEqual([]);
    expect(result.warnings).toContain('Host b: ProxyJump loops (a -> b -> a); skipped');
  });

  it('skips a host that jumps through more than one hop, with a warning', async () => {
    const result = await run('Host web\n  ProxyJump gw1,gw2\n');
    expect(result).toEqual({ hosts: [], warnings: ['Host web: ProxyJump through 2 hosts (gw1,gw2) is not supported, only one; skipped'] });
  });

  it.each([
    ['gw', { host: 'gw' }],
    ['admin@gw:2201', { user: 'admin', host: 'gw', port: 2201 }],
    ['ssh://admin@gw:2201', { user: 'admin', host: 'gw', port: 2201 }],
    ['[fd00::1]:2201', { host: 'fd00::1', port: 2201 }],
    ['fd00::1', { host: 'fd00::1' }],
    ['gw:notaport', undefined],
    ['@gw', undefined],
  ])('parses the jump hop %s', (text, expected) => {
    expect(parseJumpHop(text)).toEqual(expected);
  });
});

describe('commands in the config are never run', () => {
  it('does not apply a Match exec block and warns that it was not run', async () => {
    const result = await run('Match exec "true"\n  User evil\nHost web\n  IdentityFile ~/.ssh/k\n');
    expect(byName(result, 'web').user).toBe('ann');
    expect(result.warnings).toEqual(['"Match exec true": Match exec was not run (cnlab never runs commands from an ssh config); its settings were not applied']);
  });

  it('drops CanonicalizeHostName, which would make the library run nslookup, and says so', async () => {
    const result = await run('CanonicalizeHostName yes\nCanonicalDomains example.com\nHost web\n  IdentityFile ~/.ssh/k\n');
    expect(byName(result, 'web').address).toBe('web');
    expect(result.warnings).toEqual([expect.stringContaining('CanonicalizeHostName is not applied')]);
  });

  describe('on real files', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'cnlab-sshcfg-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const configWithExec = (marker: string): string =>
      `Include ${join(dirname(marker), 'more.conf')}\nHost web\n  HostName 10.0.0.5\n  IdentityFile ~/.ssh/k\nMatch exec "touch ${marker}"\n  User evil\n`;

    it('(control) the marker command does run when the library evaluates Match exec unprotected', () => {
      const marker = join(dir, 'control-marker');
      SSHConfig.parse(configWithExec(marker)).compute('web');
      expect(existsSync(marker)).toBe(true);
    });

    it('never runs a Match exec command, in the main file or an included one (the marker file stays absent)', async () => {
      const marker = join(dir, 'marker');
      const marker2 = join(dir, 'marker2');
      const path = join(dir, 'config');
      writeFileSync(path, configWithExec(marker));
      writeFileSync(join(dir, 'more.conf'), `Match host web exec "touch ${marker2}"\n  Port 1\n`);
      const result = await importSshConfig(path, { homeDir: dir, userName: 'ann' });
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(marker2)).toBe(false);
      expect(byName(result, 'web')).toMatchObject({ user: 'ann', port: 22 });
      expect(result.warnings.filter((warning) => warning.includes('Match exec was not run'))).toHaveLength(2);
    });

    it('reads Include files from disk and resolves relative ones against ~/.ssh', async () => {
      mkdirSync(join(dir, '.ssh', 'conf.d'), { recursive: true });
      writeFileSync(join(dir, '.ssh', 'conf.d', 'lab.conf'), 'Host lab1\n  HostName 192.0.2.10\n');
      writeFileSync(join(dir, '.ssh', 'id_ed25519'), 'not really a key');
      const path = join(dir, '.ssh', 'config');
      writeFileSync(path, 'Include conf.d/*.conf\n');
      const result = await importSshConfig(path, { homeDir: dir, userName: 'ann' });
      expect(result.hosts).toEqual([
        { name: 'lab1', kind: 'ssh', address: '192.0.2.10', port: 22, user: 'ann', auth: { type: 'key', keyFile: join(dir, '.ssh', 'id_ed25519') }, knownHostsFiles: [] },
      ]);
    });

    it('fails with not-found naming the file when the config does not exist', async () => {
      const path = join(dir, 'nope');
      const error = await importSshConfig(path, ENV).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CnlabError);
      expect(error).toMatchObject({ code: 'not-found', details: { file: path } });
    });

    it('fails with invalid-input naming the file when the main config does not parse', async () => {
      const path = join(dir, 'config');
      writeFileSync(path, 'Host "unterminated\n');
      await expect(importSshConfig(path, ENV)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining(path) });
    });
  });
});
