// known_hosts parsing and lookup with real keys from ssh-keygen, and OpenSSH's own `ssh-keygen -H`
// (hashing) and `ssh-keygen -F` (lookup) as the reference for what matches.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseOpenSshPublicKey, type OpenSshPublicKey } from './host-key';
import {
  checkHostKey,
  formatHashedHost,
  formatKnownHostsLine,
  knownHostsName,
  matchPatternList,
  matchWildcard,
  parseKnownHosts,
  type HostKeyTarget,
} from './known-hosts';

let dir: string;
const keys: Record<'ed1' | 'ed2' | 'ecdsa256' | 'ecdsa384', OpenSshPublicKey & { line: string; fingerprint: string }> = {} as never;

function generate(name: keyof typeof keys, args: string[]): void {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', '', '-f', file, ...args]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1] as string;
  keys[name] = { ...parseOpenSshPublicKey(line), line: line.split(' ').slice(0, 2).join(' '), fingerprint };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnlab-known-hosts-'));
  generate('ed1', ['-t', 'ed25519']);
  generate('ed2', ['-t', 'ed25519']);
  generate('ecdsa256', ['-t', 'ecdsa', '-b', '256']);
  generate('ecdsa384', ['-t', 'ecdsa', '-b', '384']);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function target(host: string, port: number, key: OpenSshPublicKey): HostKeyTarget {
  return { host, port, keyType: key.type, keyBlob: key.blob };
}

function check(text: string, host: string, port: number, key: OpenSshPublicKey) {
  return checkHostKey(parseKnownHosts(text).entries, target(host, port, key));
}

/** What OpenSSH itself says: does `ssh-keygen -F name -f file` find an entry for host:port? */
function sshKeygenFinds(text: string, host: string, port: number): boolean {
  const file = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  const result = spawnSync('ssh-keygen', ['-F', knownHostsName(host, port), '-f', file], { encoding: 'utf8' });
  return result.status === 0 && result.stdout.includes('found:');
}

describe('plain host lists', () => {
  it('trusts every name of a comma-separated list on port 22', () => {
    const text = `web.example,10.0.0.5 ${keys.ed1.line}\n`;
    expect(check(text, 'web.example', 22, keys.ed1).status).toBe('trusted');
    expect(check(text, '10.0.0.5', 22, keys.ed1).status).toBe('trusted');
  });

  it('does not apply a bare-name entry to another port', () => {
    expect(check(`web.example ${keys.ed1.line}\n`, 'web.example', 2222, keys.ed1)).toEqual({ status: 'unknown', otherTypesKnown: [] });
  });

  it('matches host names case-insensitively, as ssh lowercases them', () => {
    expect(check(`Web.Example ${keys.ed1.line}\n`, 'WEB.example', 22, keys.ed1).status).toBe('trusted');
  });

  it('reports the line number of the entry that trusted the key', () => {
    expect(check(`# header\n\nweb ${keys.ed1.line}\n`, 'web', 22, keys.ed1)).toEqual({ status: 'trusted', line: 3 });
  });
});

describe('[host]:port entries', () => {
  const text = (): string => `[web.example]:2222 ${keys.ed1.line}\n`;

  it('trusts the key on the bracketed port', () => {
    expect(check(text(), 'web.example', 2222, keys.ed1).status).toBe('trusted');
  });

  it('does not trust it on port 22 or on another port', () => {
    expect(check(text(), 'web.example', 22, keys.ed1).status).toBe('unknown');
    expect(check(text(), 'web.example', 2200, keys.ed1).status).toBe('unknown');
  });

  it('writes port 22 without brackets and other ports as [host]:port', () => {
    expect(knownHostsName('Web.Example', 22)).toBe('web.example');
    expect(knownHostsName('web.example', 2222)).toBe('[web.example]:2222');
    expect(formatKnownHostsLine('fd00::1', 2222, keys.ed1.blob)).toBe(`[fd00::1]:2222 ${keys.ed1.line}`);
  });
});

describe('hashed entries (ssh-keygen -H)', () => {
  let hashedText: string;

  beforeAll(() => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, `alpha.lab,10.1.1.1 ${keys.ed1.line}\n[beta.lab]:2222 ${keys.ecdsa256.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' });
    hashedText = readFileSync(file, 'utf8');
  });

  it('is really hashed by ssh-keygen: no host name is left in the file', () => {
    expect(hashedText).not.toMatch(/alpha|beta|10\.1\.1\.1/);
    expect(hashedText.split('\n').filter((line) => line.startsWith('|1|'))).toHaveLength(3);
  });

  it('trusts each hashed name with its key, including a [host]:port name', () => {
    expect(check(hashedText, 'alpha.lab', 22, keys.ed1).status).toBe('trusted');
    expect(check(hashedText, '10.1.1.1', 22, keys.ed1).status).toBe('trusted');
    expect(check(hashedText, 'beta.lab', 2222, keys.ecdsa256).status).toBe('trusted');
  });

  it('does not match a hashed name on another port or another host', () => {
    expect(check(hashedText, 'beta.lab', 22, keys.ecdsa256).status).toBe('unknown');
    expect(check(hashedText, 'gamma.lab', 22, keys.ed1).status).toBe('unknown');
  });

  it('parses the hashed file without warnings', () => {
    expect(parseKnownHosts(hashedText).warnings).toEqual([]);
  });

  it('formats a hashed host that ssh-keygen -F finds', () => {
    const salt = Buffer.alloc(20, 7);
    const text = `${formatHashedHost(knownHostsName('delta.lab', 2022), salt)} ${keys.ed1.line}\n`;
    expect(sshKeygenFinds(text, 'delta.lab', 2022)).toBe(true);
    expect(check(text, 'delta.lab', 2022, keys.ed1).status).toBe('trusted');
  });
});

describe('wildcards and negation', () => {
  const cases: Array<[string, string, number, boolean]> = [
    ['*.lab', 'web.lab', 22, true],
    ['*.lab', 'lab', 22, false],
    ['web?.lab', 'web1.lab', 22, true],
    ['web?.lab', 'web.lab', 22, false],
    ['web?.lab', 'web12.lab', 22, false],
    ['10.0.0.*', '10.0.0.77', 22, true],
    ['*.lab,!db.lab', 'web.lab', 22, true],
    ['*.lab,!db.lab', 'db.lab', 22, false],
    ['!db.lab,*.lab', 'db.lab', 22, false],
    ['!db.lab', 'web.lab', 22, false],
    ['[*.lab]:2222', 'web.lab', 2222, true],
    ['[*.lab]:2222', 'web.lab', 22, false],
    ['*', 'anything.example', 2222, true],
    ['[web.lab]:*', 'web.lab', 8022, true],
  ];

  it.each(cases)('pattern %s matches %s port %i: %s', (patterns, host, port, expected) => {
    const status = check(`${patterns} ${keys.ed1.line}\n`, host, port, keys.ed1).status;
    expect(status === 'trusted').toBe(expected);
  });

  it.each(cases)('agrees with ssh-keygen -F on pattern %s, host %s port %i', (patterns, host, port) => {
    const ours = check(`${patterns} ${keys.ed1.line}\n`, host, port, keys.ed1).status === 'trusted';
    expect(ours).toBe(sshKeygenFinds(`${patterns} ${keys.ed1.line}\n`, host, port));
  });

  it('matches many stars in linear time (no backtracking blow-up)', () => {
    const started = performance.now();
    expect(matchWildcard('a'.repeat(200), `${'*a'.repeat(40)}b`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('vetoes the whole list when a negated pattern matches', () => {
    expect(matchPatternList('db.lab', ['*', '!db.*'])).toBe(false);
  });
});

describe('trust decisions', () => {
  it('says changed when a key of the same type is known and differs, with the known fingerprint', () => {
    expect(check(`web ${keys.ed1.line}\n`, 'web', 22, keys.ed2)).toEqual({
      status: 'changed',
      knownFingerprints: [keys.ed1.fingerprint],
      lines: [1],
    });
  });

  it('says unknown, listing the known types, when only keys of other types are known', () => {
    expect(check(`web ${keys.ecdsa256.line}\n`, 'web', 22, keys.ed1)).toEqual({ status: 'unknown', otherTypesKnown: ['ecdsa-sha2-nistp256'] });
  });

  it('counts ECDSA keys on different curves as different types (unknown, not changed)', () => {
    expect(check(`web ${keys.ecdsa256.line}\n`, 'web', 22, keys.ecdsa384).status).toBe('unknown');
  });

  it('trusts a key listed for the host even when another entry of the same type differs (as OpenSSH)', () => {
    const text = `*.lab ${keys.ed2.line}\nweb.lab ${keys.ed1.line}\n`;
    expect(check(text, 'web.lab', 22, keys.ed1)).toEqual({ status: 'trusted', line: 2 });
  });

  it('ignores entries of other hosts when deciding changed', () => {
    expect(check(`other ${keys.ed1.line}\n`, 'web', 22, keys.ed2)).toEqual({ status: 'unknown', otherTypesKnown: [] });
  });

  it('says revoked when a matching @revoked line holds the key, even if a plain line trusts it', () => {
    const text = `web ${keys.ed1.line}\n@revoked * ${keys.ed1.line}\n`;
    expect(check(text, 'web', 22, keys.ed1)).toEqual({ status: 'revoked', line: 2 });
  });

  it('is not affected by a @revoked line for a different key', () => {
    const text = `web ${keys.ed1.line}\n@revoked * ${keys.ed2.line}\n`;
    expect(check(text, 'web', 22, keys.ed1).status).toBe('trusted');
  });

  it('does not count a @revoked key as a known key of its type', () => {
    expect(check(`@revoked web ${keys.ed1.line}\n`, 'web', 22, keys.ed2)).toEqual({ status: 'unknown', otherTypesKnown: [] });
  });

  it('ignores @cert-authority lines: a CA key is not a host key and certificates are not supported', () => {
    const text = `@cert-authority *.lab ${keys.ed1.line}\n`;
    expect(parseKnownHosts(text).warnings).toEqual([]);
    expect(check(text, 'web.lab', 22, keys.ed1)).toEqual({ status: 'unknown', otherTypesKnown: [] });
  });

  it('refuses a keyType that contradicts the blob (a signature algorithm name, say)', () => {
    const entries = parseKnownHosts(`web ${keys.ed1.line}\n`).entries;
    expect(() => checkHostKey(entries, { host: 'web', port: 22, keyType: 'rsa-sha2-256', keyBlob: keys.ed1.blob })).toThrow(/not a signature algorithm/);
  });

  it('derives the key type from the blob when keyType is omitted', () => {
    const entries = parseKnownHosts(`web ${keys.ed1.line}\n`).entries;
    expect(checkHostKey(entries, { host: 'web', port: 22, keyBlob: keys.ed2.blob }).status).toBe('changed');
  });
});

describe('parsing', () => {
  it('skips comments, blank lines and indentation without warnings, and accepts CRLF line ends', () => {
    const text = `# comment\n\n   \n  web ${keys.ed1.line} a comment\r\n\t# indented comment\n`;
    const parsed = parseKnownHosts(text);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.entries.map((entry) => [entry.line, entry.comment])).toEqual([[4, 'a comment']]);
  });

  it('reports each malformed line with its line number and keeps the good lines around them', () => {
    const data = keys.ed1.line.split(' ')[1]!;
    const lines = [
      `good1 ${keys.ed1.line}`,
      'lonelyhost',
      `bad64 ssh-ed25519 ${data.slice(0, 20)}*${data.slice(21)}`,
      `mismatch ssh-rsa ${data}`,
      `@bogus web ${keys.ed1.line}`,
      'ssh1 1024 35 1234567890',
      `|1|notbase64|x ${keys.ed1.line}`,
      `a,,b ${keys.ed1.line}`,
      '@revoked',
      `good2 ${keys.ed2.line}`,
    ];
    const parsed = parseKnownHosts(lines.join('\n'));
    expect(parsed.entries.map((entry) => entry.line)).toEqual([1, 10]);
    expect(parsed.warnings.map((warning) => warning.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(parsed.warnings.every((warning) => warning.message.startsWith('skipped malformed line: '))).toBe(true);
  });

  it('names the problem of a malformed line in its warning', () => {
    const data = keys.ed1.line.split(' ')[1]!;
    expect(parseKnownHosts(`web ssh-rsa ${data}`).warnings).toEqual([
      { line: 1, message: 'skipped malformed line: the line says ssh-rsa but the key data is ssh-ed25519' },
    ]);
  });

  it('parses markers, patterns and hashed hosts into entries', () => {
    const salt = Buffer.alloc(20, 1);
    const text = `@revoked a,!b ${keys.ed1.line}\n${formatHashedHost('c', salt)} ${keys.ed2.line}\n`;
    const [first, second] = parseKnownHosts(text).entries;
    expect(first).toMatchObject({ marker: 'revoked', hosts: { kind: 'patterns', patterns: ['a', '!b'] }, keyType: 'ssh-ed25519' });
    expect(second?.hosts.kind).toBe('hashed');
    expect(second?.marker).toBeUndefined();
  });
});
