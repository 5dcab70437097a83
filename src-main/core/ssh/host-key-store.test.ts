// The host key store on real files: combining the user's read-only known_hosts files with cnlab's own,
// trust/forget round trips, file modes, atomic writes, and errors that name the file and the fix.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import { parseOpenSshPublicKey, type OpenSshPublicKey } from './host-key';
import { HostKeyStore, combineChecks, removeHostEntries, type FileCheck } from './host-key-store';
import type { HostKeyTarget } from './known-hosts';

let keyDir: string;
let dir: string;
let userFile: string;
let storeFile: string;
const keys: Record<'ed1' | 'ed2' | 'ecdsa', OpenSshPublicKey & { line: string; fingerprint: string }> = {} as never;

function generate(name: keyof typeof keys, args: string[]): void {
  const file = join(keyDir, name);
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', '', '-f', file, ...args]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1] as string;
  keys[name] = { ...parseOpenSshPublicKey(line), line: line.split(' ').slice(0, 2).join(' '), fingerprint };
}

function target(host: string, port: number, key: OpenSshPublicKey): HostKeyTarget {
  return { host, port, keyType: key.type, keyBlob: key.blob };
}

function store(): HostKeyStore {
  return new HostKeyStore({ trustedFiles: [userFile], storeFile });
}

beforeAll(() => {
  keyDir = mkdtempSync(join(tmpdir(), 'cnlab-store-keys-'));
  generate('ed1', ['-t', 'ed25519']);
  generate('ed2', ['-t', 'ed25519']);
  generate('ecdsa', ['-t', 'ecdsa', '-b', '256']);
});

afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnlab-store-'));
  userFile = join(dir, 'home', '.ssh', 'known_hosts');
  storeFile = join(dir, 'config', 'cnlab', 'known_hosts');
  return () => rmSync(dir, { recursive: true, force: true });
});

function writeUserFile(text: string): void {
  mkdirSync(join(dir, 'home', '.ssh'), { recursive: true });
  writeFileSync(userFile, text);
}

describe('check', () => {
  it('says unknown when no file exists yet (missing files are empty)', async () => {
    const result = await store().check(target('web', 22, keys.ed1));
    expect(result.status).toBe('unknown');
  });

  it('trusts a key from the user known_hosts and says which file and line', async () => {
    writeUserFile(`# mine\nweb ${keys.ed1.line}\n`);
    const result = await store().check(target('web', 22, keys.ed1));
    expect(result).toMatchObject({ status: 'trusted', at: { file: userFile, line: 2 } });
  });

  it('returns the presented key type and the ssh-keygen fingerprint with every verdict', async () => {
    const result = await store().check(target('web', 22, keys.ed1));
    expect(result).toMatchObject({ host: 'web', port: 22, keyType: 'ssh-ed25519', fingerprint: keys.ed1.fingerprint });
  });

  it('lets a revocation in one file win over trust in another', async () => {
    writeUserFile(`@revoked * ${keys.ed1.line}\n`);
    mkdirSync(join(dir, 'config', 'cnlab'), { recursive: true });
    writeFileSync(storeFile, `web ${keys.ed1.line}\n`);
    const result = await store().check(target('web', 22, keys.ed1));
    expect(result).toMatchObject({ status: 'revoked', at: { file: userFile, line: 1 } });
  });

  it('lets a changed key in one file win over trust in another, listing where the old key is', async () => {
    writeUserFile(`web ${keys.ed1.line}\n`);
    mkdirSync(join(dir, 'config', 'cnlab'), { recursive: true });
    writeFileSync(storeFile, `web ${keys.ed2.line}\n`);
    const result = await store().check(target('web', 22, keys.ed2));
    expect(result).toMatchObject({ status: 'changed', knownFingerprints: [keys.ed1.fingerprint], at: [{ file: userFile, line: 1 }] });
  });

  it('collects other known key types across files for an unknown key', async () => {
    writeUserFile(`web ${keys.ecdsa.line}\n`);
    const result = await store().check(target('web', 22, keys.ed1));
    expect(result).toMatchObject({ status: 'unknown', otherTypesKnown: ['ecdsa-sha2-nistp256'] });
  });

  it('reports malformed lines as file:line warnings and still decides', async () => {
    writeUserFile(`garbage\nweb ${keys.ed1.line}\n`);
    const result = await store().check(target('web', 22, keys.ed1));
    expect(result.status).toBe('trusted');
    expect(result.warnings).toEqual([`${userFile}:1: skipped malformed line: no key after the host names`]);
  });

  it('re-reads the files on every call, so an edit by the user counts at once', async () => {
    writeUserFile(`web ${keys.ed1.line}\n`);
    const keyStore = store();
    expect((await keyStore.check(target('web', 22, keys.ed1))).status).toBe('trusted');
    writeUserFile('');
    expect((await keyStore.check(target('web', 22, keys.ed1))).status).toBe('unknown');
  });

  it('fails with an io CnlabError naming the file when a known_hosts file cannot be read', async () => {
    mkdirSync(userFile, { recursive: true }); // a folder where the file should be: EISDIR
    const error = await store().check(target('web', 22, keys.ed1)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CnlabError);
    expect(error).toMatchObject({ code: 'io', details: { file: userFile } });
    expect((error as Error).message).toContain(userFile);
  });
});

describe('verify', () => {
  it('throws host-key-unknown naming the store file where trusting would record the key', async () => {
    const error = await store().verify(target('web', 2222, keys.ed1)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'host-key-unknown', details: { fingerprint: keys.ed1.fingerprint, port: 2222 } });
    expect((error as Error).message).toContain(storeFile);
  });

  it('throws host-key-changed with the ssh-keygen -R command for the user file', async () => {
    writeUserFile(`[web]:2222 ${keys.ed1.line}\n`);
    const error = await store().verify(target('web', 2222, keys.ed2)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'host-key-changed', details: { knownFingerprints: [keys.ed1.fingerprint] } });
    expect((error as Error).message).toContain(`ssh-keygen -R '[web]:2222' -f '${userFile}'`);
  });

  it('throws host-key-revoked naming the file and line of the revocation', async () => {
    writeUserFile(`\n@revoked * ${keys.ed1.line}\n`);
    const error = await store().verify(target('web', 22, keys.ed1)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'host-key-revoked', details: { file: userFile, line: 2 } });
    expect((error as Error).message).toContain(`${userFile} line 2`);
  });

  it('resolves for a trusted key', async () => {
    writeUserFile(`web ${keys.ed1.line}\n`);
    await expect(store().verify(target('web', 22, keys.ed1))).resolves.toMatchObject({ status: 'trusted' });
  });
});

describe('trust and forget', () => {
  it('creates the store folder 0700 and the file 0600', async () => {
    await store().trust(target('web', 22, keys.ed1));
    expect(statSync(join(dir, 'config', 'cnlab')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'config')).mode & 0o777).toBe(0o700);
    expect(statSync(storeFile).mode & 0o777).toBe(0o600);
  });

  it('appends plain lines: the bare name for port 22, [host]:port otherwise', async () => {
    await store().trust(target('Web.Lab', 22, keys.ed1));
    await store().trust(target('10.0.0.9', 2222, keys.ed1));
    expect(readFileSync(storeFile, 'utf8')).toBe(`web.lab ${keys.ed1.line}\n[10.0.0.9]:2222 ${keys.ed1.line}\n`);
  });

  it('writes lines that OpenSSH finds with ssh-keygen -F', async () => {
    await store().trust(target('web.lab', 2222, keys.ed1));
    const found = spawnSync('ssh-keygen', ['-F', '[web.lab]:2222', '-f', storeFile], { encoding: 'utf8' });
    expect(found.status).toBe(0);
  });

  it('makes the key trusted, and a round trip with forget makes it unknown again', async () => {
    const keyStore = store();
    expect(await keyStore.trust(target('web', 2222, keys.ed1))).toMatchObject({ status: 'trusted', at: { file: storeFile, line: 1 } });
    expect(await keyStore.forget('web', 2222)).toBe(1);
    expect((await keyStore.check(target('web', 2222, keys.ed1))).status).toBe('unknown');
  });

  it('does not add a second line for a key that is already stored', async () => {
    await store().trust(target('web', 22, keys.ed1));
    await store().trust(target('web', 22, keys.ed1));
    expect(readFileSync(storeFile, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it("replaces cnlab's older key of the same type for that host, keeping other types and hosts", async () => {
    await store().trust(target('web', 22, keys.ed1));
    await store().trust(target('web', 22, keys.ecdsa));
    await store().trust(target('db', 22, keys.ed1));
    const result = await store().trust(target('web', 22, keys.ed2));
    expect(result.status).toBe('trusted');
    expect(readFileSync(storeFile, 'utf8')).toBe(`web ${keys.ecdsa.line}\ndb ${keys.ed1.line}\nweb ${keys.ed2.line}\n`);
  });

  it('still reports changed after trust when the old key sits in a read-only user file', async () => {
    writeUserFile(`web ${keys.ed1.line}\n`);
    const result = await store().trust(target('web', 22, keys.ed2));
    expect(result).toMatchObject({ status: 'changed', at: [{ file: userFile, line: 1 }] });
  });

  it('refuses to trust a revoked key and writes nothing', async () => {
    writeUserFile(`@revoked * ${keys.ed1.line}\n`);
    await expect(store().trust(target('web', 22, keys.ed1))).rejects.toMatchObject({ code: 'host-key-revoked' });
    expect(existsSync(storeFile)).toBe(false);
  });

  it('refuses a host that would become a pattern or a list in known_hosts', async () => {
    for (const host of ['*.lab', 'a,b', 'web lab', '[web]:22', '!web']) {
      await expect(store().trust(target(host, 22, keys.ed1))).rejects.toMatchObject({ code: 'invalid-input' });
    }
  });

  it('forgets only that host and port in the store, and never edits the user file', async () => {
    const userText = `web ${keys.ed1.line}\n[web]:2222 ${keys.ed1.line}\n`;
    writeUserFile(userText);
    await store().trust(target('web', 2222, keys.ed2));
    await store().trust(target('web', 22, keys.ed2));
    await store().trust(target('db', 2222, keys.ed2));
    expect(await store().forget('web', 2222)).toBe(1);
    expect(readFileSync(storeFile, 'utf8')).toBe(`web ${keys.ed2.line}\n[db]:2222 ${keys.ed2.line}\n`);
    expect(readFileSync(userFile, 'utf8')).toBe(userText);
  });

  it('returns 0 and creates nothing when forgetting a host cnlab never stored', async () => {
    expect(await store().forget('web', 22)).toBe(0);
    expect(existsSync(storeFile)).toBe(false);
  });

  it('keeps @revoked lines and wildcard lines when forgetting a host', async () => {
    mkdirSync(join(dir, 'config', 'cnlab'), { recursive: true });
    const text = `@revoked web ${keys.ed1.line}\n*.lab ${keys.ed1.line}\nweb ${keys.ed2.line}\n`;
    writeFileSync(storeFile, text);
    expect(await store().forget('web', 22)).toBe(1);
    expect(readFileSync(storeFile, 'utf8')).toBe(`@revoked web ${keys.ed1.line}\n*.lab ${keys.ed1.line}\n`);
  });

  it('removes only the forgotten name from a line listing several hosts', () => {
    const result = removeHostEntries(`web,10.0.0.5 ${keys.ed1.line} note\n`, '10.0.0.5', 22);
    expect(result).toEqual({ text: `web ${keys.ed1.line} note\n`, removed: 1 });
  });

  it('removes a hashed entry for the host', () => {
    const file = join(dir, 'hashed');
    writeFileSync(file, `web ${keys.ed1.line}\nother ${keys.ed1.line}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'pipe' });
    const result = removeHostEntries(readFileSync(file, 'utf8'), 'web', 22);
    expect(result.removed).toBe(1);
    expect(result.text.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('serialises concurrent trusts so no line is lost', async () => {
    const keyStore = store();
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((host) => keyStore.trust(target(host, 22, keys.ed1))));
    expect(readFileSync(storeFile, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['a', 'b', 'c', 'd', 'e'].map((host) => `${host} ${keys.ed1.line}`));
  });

  it('leaves no temporary files beside the store file', async () => {
    await store().trust(target('web', 22, keys.ed1));
    await store().forget('web', 22);
    expect(readdirSync(join(dir, 'config', 'cnlab'))).toEqual(['known_hosts']);
  });

  it('adds the missing final newline of a hand-edited store before appending', async () => {
    mkdirSync(join(dir, 'config', 'cnlab'), { recursive: true });
    writeFileSync(storeFile, `db ${keys.ed1.line}`);
    await store().trust(target('web', 22, keys.ed1));
    expect(readFileSync(storeFile, 'utf8')).toBe(`db ${keys.ed1.line}\nweb ${keys.ed1.line}\n`);
  });

  it('fails with an io CnlabError naming the store file when it cannot be written', async () => {
    writeFileSync(join(dir, 'config'), 'a file where a folder should be');
    const error = await store().trust(target('web', 22, keys.ed1)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'io', details: { file: storeFile } });
    expect((error as Error).message).toContain(storeFile);
  });
});

describe('combineChecks', () => {
  it('orders revoked over changed over trusted over unknown', () => {
    const revoked: FileCheck = { file: 'r', check: { status: 'revoked', line: 1 } };
    const changed: FileCheck = { file: 'c', check: { status: 'changed', knownFingerprints: ['SHA256:x'], lines: [2] } };
    const trusted: FileCheck = { file: 't', check: { status: 'trusted', line: 3 } };
    const unknown: FileCheck = { file: 'u', check: { status: 'unknown', otherTypesKnown: ['ssh-rsa'] } };
    expect(combineChecks([unknown, trusted, changed, revoked]).status).toBe('revoked');
    expect(combineChecks([unknown, trusted, changed]).status).toBe('changed');
    expect(combineChecks([unknown, trusted]).status).toBe('trusted');
    expect(combineChecks([unknown])).toEqual({ status: 'unknown', otherTypesKnown: ['ssh-rsa'] });
  });
});
