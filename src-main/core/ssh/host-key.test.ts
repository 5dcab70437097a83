// Host key bytes against OpenSSH's own tools: fingerprints and key types must equal what ssh-keygen prints,
// because users compare cnlab's prompts with ssh-keygen output from their admins.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import {
  decodeBase64Strict,
  fingerprintSha256,
  formatOpenSshPublicKey,
  keyTypeOfBlob,
  parseOpenSshPublicKey,
  parsePublicKeyFields,
  tryKeyTypeOfBlob,
} from './host-key';

let dir: string;
const keys: Record<string, { pubLine: string; sshKeygenFingerprint: string }> = {};

function generate(name: string, args: string[]): void {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', `${name}@test`, '-f', file, ...args]);
  const listing = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${file}.pub`], { encoding: 'utf8' });
  keys[name] = { pubLine: readFileSync(`${file}.pub`, 'utf8').trim(), sshKeygenFingerprint: listing.split(' ')[1] as string };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnlab-host-key-'));
  generate('ed25519', ['-t', 'ed25519']);
  generate('ecdsa256', ['-t', 'ecdsa', '-b', '256']);
  generate('ecdsa384', ['-t', 'ecdsa', '-b', '384']);
  generate('rsa', ['-t', 'rsa', '-b', '2048']);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fingerprintSha256', () => {
  it.each(['ed25519', 'ecdsa256', 'ecdsa384', 'rsa'])('prints the same SHA256 fingerprint as ssh-keygen -l for a %s key', (name) => {
    const key = parseOpenSshPublicKey(keys[name]!.pubLine);
    expect(fingerprintSha256(key.blob)).toBe(keys[name]!.sshKeygenFingerprint);
  });

  it('has no base64 padding after SHA256:', () => {
    expect(fingerprintSha256(Buffer.from('x'))).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('keyTypeOfBlob', () => {
  it.each([
    ['ed25519', 'ssh-ed25519'],
    ['ecdsa256', 'ecdsa-sha2-nistp256'],
    ['ecdsa384', 'ecdsa-sha2-nistp384'],
    ['rsa', 'ssh-rsa'],
  ])('reads the wire-format type of a %s key as %s', (name, type) => {
    const blob = Buffer.from(keys[name]!.pubLine.split(' ')[1]!, 'base64');
    expect(keyTypeOfBlob(blob)).toBe(type);
  });

  it('throws an invalid-input CnlabError for bytes that are not a key blob', () => {
    const attempt = (): string => keyTypeOfBlob(Buffer.from('not a key at all'));
    expect(attempt).toThrow(CnlabError);
    expect(attempt).toThrow(/not an SSH wire-format public key/);
  });

  it('treats a blob holding only a type name (no key material) as not a key', () => {
    const typeOnly = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519')]);
    expect(tryKeyTypeOfBlob(typeOnly)).toBeUndefined();
  });

  it('treats a length field running past the end as not a key', () => {
    expect(tryKeyTypeOfBlob(Buffer.from([0, 0, 1, 0, 0x41]))).toBeUndefined();
  });
});

describe('OpenSSH public key lines', () => {
  it('parses type, blob and comment of a .pub line', () => {
    const key = parseOpenSshPublicKey(keys.ed25519!.pubLine);
    expect(key.type).toBe('ssh-ed25519');
    expect(key.comment).toBe('ed25519@test');
    expect(key.blob.toString('base64')).toBe(keys.ed25519!.pubLine.split(' ')[1]);
  });

  it('formats a line that reads back to the same key and comment', () => {
    const key = parseOpenSshPublicKey(keys.rsa!.pubLine);
    expect(parseOpenSshPublicKey(formatOpenSshPublicKey(key.blob, 'a b'))).toEqual({ ...key, comment: 'a b' });
  });

  it('refuses a line whose declared type differs from the type inside the key data', () => {
    const data = keys.ed25519!.pubLine.split(' ')[1]!;
    expect(parsePublicKeyFields(`ssh-rsa ${data}`)).toEqual({ ok: false, reason: 'the line says ssh-rsa but the key data is ssh-ed25519' });
  });

  it('refuses key data with characters outside base64 instead of decoding around them', () => {
    const data = keys.ed25519!.pubLine.split(' ')[1]!;
    expect(parsePublicKeyFields(`ssh-ed25519 ${data.slice(0, 10)}!${data.slice(10)}`)).toEqual({ ok: false, reason: 'the key data is not valid base64' });
    expect(decodeBase64Strict('ab!c')).toBeUndefined();
  });

  it('reports a missing key after the type', () => {
    expect(parsePublicKeyFields('ssh-ed25519')).toEqual({ ok: false, reason: 'no key data after the key type ssh-ed25519' });
  });

  it('throws an invalid-input CnlabError for a line that is not a public key', () => {
    expect(() => parseOpenSshPublicKey('hello world')).toThrow(/not an OpenSSH public key line/);
  });
});
