// Pure OpenSSH known_hosts handling: parse the text, match a host and port against entries, and decide
// whether a presented host key is trusted, unknown, changed or revoked the way `ssh` would.

import { createHmac } from 'node:crypto';
import { CnlabError } from '../errors';
import { decodeBase64Strict, fingerprintSha256, keyTypeOfBlob, parsePublicKeyFields } from './host-key';

export const DEFAULT_SSH_PORT = 22;

/** OpenSSH's hashed-name magic: `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. */
const HASH_MAGIC = '|1|';
const SHA1_LENGTH = 20;

export type KnownHostsHosts =
  | { kind: 'patterns'; patterns: string[] }
  | { kind: 'hashed'; salt: Buffer; hash: Buffer };

export interface KnownHostsEntry {
  /** 1-based line number in the text, for messages that tell the user which line to edit. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: KnownHostsHosts;
  keyType: string;
  keyBlob: Buffer;
  comment: string;
}

export interface KnownHostsWarning {
  line: number;
  message: string;
}

export interface KnownHostsParse {
  entries: KnownHostsEntry[];
  warnings: KnownHostsWarning[];
}

export interface HostKeyTarget {
  /** The name or IP address exactly as the user gave it (not a resolved address), like ssh does. */
  host: string;
  port: number;
  /**
   * Optional cross-check: must equal the type inside the blob. Catches callers passing a signature
   * algorithm (`rsa-sha2-256`) where the key type (`ssh-rsa`) is meant. ssh2's verifier gives only the blob.
   */
  keyType?: string;
  keyBlob: Buffer;
}

export type HostKeyCheck =
  | { status: 'trusted'; line: number }
  | { status: 'unknown'; otherTypesKnown: string[] }
  | { status: 'changed'; knownFingerprints: string[]; lines: number[] }
  | { status: 'revoked'; line: number };

/**
 * The name OpenSSH writes and looks up: the bare host for port 22, `[host]:port` otherwise. Lower case
 * because ssh lowercases host names before any known_hosts lookup (hashes are of the lowercased name).
 */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === DEFAULT_SSH_PORT ? lower : `[${lower}]:${port}`;
}

/** HMAC-SHA1 keyed with the salt, as `ssh-keygen -H` and `HashKnownHosts yes` write. */
export function hashKnownHostsName(name: string, salt: Buffer): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

/** Formats a hashed host field with the given salt (20 random bytes in real use). */
export function formatHashedHost(name: string, salt: Buffer): string {
  return `${HASH_MAGIC}${salt.toString('base64')}|${hashKnownHostsName(name, salt).toString('base64')}`;
}

/**
 * OpenSSH `match_pattern`: `*` is any run of characters (also none), `?` exactly one, everything else
 * literal (brackets too: `[host]:2222` patterns are literal text). Iterative with one backtrack point,
 * so a pattern full of `*` cannot make matching exponential.
 */
export function matchWildcard(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === '*') {
      starP = p++;
      starT = t;
    } else if (pc !== undefined && (pc === '?' || pc === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * OpenSSH `match_pattern_list` on a comma list: a matching `!pattern` vetoes the whole entry even if
 * another pattern matches; otherwise any positive match wins. Case-insensitive like ssh.
 */
export function matchPatternList(name: string, patterns: readonly string[]): boolean {
  const lower = name.toLowerCase();
  let positive = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).toLowerCase();
    if (matchWildcard(lower, pattern)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

/** Whether an entry's host field names this host and port. */
export function entryMatchesHost(hosts: KnownHostsHosts, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (hosts.kind === 'hashed') return hashKnownHostsName(name, hosts.salt).equals(hosts.hash);
  return matchPatternList(name, hosts.patterns);
}

type HostsParse = { ok: true; hosts: KnownHostsHosts } | { ok: false; reason: string };

function parseHostsField(field: string): HostsParse {
  if (field.startsWith('|')) {
    // A hashed field holds exactly one name; OpenSSH never mixes it into a comma list.
    if (!field.startsWith(HASH_MAGIC)) return { ok: false, reason: 'unsupported hashed host format (only |1| exists)' };
    const parts = field.slice(HASH_MAGIC.length).split('|');
    const salt = parts.length === 2 && parts[0] !== undefined ? decodeBase64Strict(parts[0]) : undefined;
    const hash = parts.length === 2 && parts[1] !== undefined ? decodeBase64Strict(parts[1]) : undefined;
    if (!salt || !hash || salt.length !== SHA1_LENGTH || hash.length !== SHA1_LENGTH) {
      return { ok: false, reason: 'bad hashed host (expected |1|salt|hash with 20-byte base64 values)' };
    }
    return { ok: true, hosts: { kind: 'hashed', salt, hash } };
  }
  const patterns = field.split(',');
  if (patterns.some((pattern) => pattern === '' || pattern === '!')) {
    return { ok: false, reason: `empty host pattern in ${JSON.stringify(field.slice(0, 80))}` };
  }
  return { ok: true, hosts: { kind: 'patterns', patterns } };
}

type LineParse = { kind: 'skip' } | { kind: 'entry'; entry: KnownHostsEntry } | { kind: 'bad'; reason: string };

/** Parses one line; `lineNumber` is carried into the entry for messages. */
export function parseKnownHostsLine(text: string, lineNumber: number): LineParse {
  let rest = text.replace(/\r$/, '').replace(/^[ \t]+/, '');
  if (rest === '' || rest.startsWith('#')) return { kind: 'skip' };

  let marker: KnownHostsEntry['marker'];
  if (rest.startsWith('@')) {
    const markerMatch = /^(@\S*)[ \t]+/.exec(rest);
    const word = markerMatch?.[1] ?? rest;
    if (word === '@revoked') marker = 'revoked';
    // @cert-authority lines are parsed so they are not reported as malformed, but checkHostKey ignores
    // them: cnlab does not accept host certificates (ssh2 offers only plain host keys to the verifier).
    else if (word === '@cert-authority') marker = 'cert-authority';
    else return { kind: 'bad', reason: `unknown marker ${JSON.stringify(word.slice(0, 40))}` };
    if (!markerMatch) return { kind: 'bad', reason: `nothing after the marker ${word}` };
    rest = rest.slice(markerMatch[0].length);
  }

  const hostsMatch = /^(\S+)(?:[ \t]+|$)/.exec(rest);
  if (!hostsMatch?.[1]) return { kind: 'bad', reason: 'no host names' };
  const hosts = parseHostsField(hostsMatch[1]);
  if (!hosts.ok) return { kind: 'bad', reason: hosts.reason };
  const keyText = rest.slice(hostsMatch[0].length);
  if (keyText.trim() === '') return { kind: 'bad', reason: 'no key after the host names' };
  const key = parsePublicKeyFields(keyText);
  if (!key.ok) return { kind: 'bad', reason: key.reason };

  const entry: KnownHostsEntry = {
    line: lineNumber,
    hosts: hosts.hosts,
    keyType: key.key.type,
    keyBlob: key.key.blob,
    comment: key.key.comment,
  };
  if (marker) entry.marker = marker;
  return { kind: 'entry', entry };
}

/**
 * Parses known_hosts text. Bad lines are skipped and reported with their line number, never thrown:
 * ssh itself ignores them, and one stray line must not lock the user out of every host.
 */
export function parseKnownHosts(text: string): KnownHostsParse {
  const entries: KnownHostsEntry[] = [];
  const warnings: KnownHostsWarning[] = [];
  text.split('\n').forEach((lineText, index) => {
    const parsed = parseKnownHostsLine(lineText, index + 1);
    if (parsed.kind === 'entry') entries.push(parsed.entry);
    else if (parsed.kind === 'bad') warnings.push({ line: index + 1, message: `skipped malformed line: ${parsed.reason}` });
  });
  return { entries, warnings };
}

/**
 * Decides what ssh would say about this key for this host and port:
 *  - revoked: a matching `@revoked` entry holds this very key (checked first: revocation beats trust);
 *  - trusted: some matching entry holds this key (even if another entry of the same type differs);
 *  - changed: entries of the same key type exist and none holds this key (a possible attack);
 *  - unknown: no entry of this type; `otherTypesKnown` lists types that are known, because then the
 *    server offers a new key type rather than a replaced key (OpenSSH treats this as new too).
 * Types are compared as full names, so ECDSA keys on different curves count as different types.
 */
export function checkHostKey(entries: readonly KnownHostsEntry[], target: HostKeyTarget): HostKeyCheck {
  const keyType = targetKeyType(target);
  const matching = entries.filter((entry) => entryMatchesHost(entry.hosts, target.host, target.port));

  const revoked = matching.find((entry) => entry.marker === 'revoked' && entry.keyBlob.equals(target.keyBlob));
  if (revoked) return { status: 'revoked', line: revoked.line };

  const plain = matching.filter((entry) => entry.marker === undefined);
  const same = plain.find((entry) => entry.keyBlob.equals(target.keyBlob));
  if (same) return { status: 'trusted', line: same.line };

  const sameType = plain.filter((entry) => entry.keyType === keyType);
  if (sameType.length > 0) {
    return {
      status: 'changed',
      knownFingerprints: unique(sameType.map((entry) => fingerprintSha256(entry.keyBlob))),
      lines: sameType.map((entry) => entry.line),
    };
  }
  return { status: 'unknown', otherTypesKnown: unique(plain.map((entry) => entry.keyType)) };
}

/** A plain (unhashed) known_hosts line for one host, the way `ssh` adds it with HashKnownHosts no. */
export function formatKnownHostsLine(host: string, port: number, keyBlob: Buffer): string {
  return `${knownHostsName(host, port)} ${keyTypeOfBlob(keyBlob)} ${keyBlob.toString('base64')}`;
}

/** The key type of the target's blob, refusing a `keyType` that contradicts it. */
export function targetKeyType(target: HostKeyTarget): string {
  const blobType = keyTypeOfBlob(target.keyBlob);
  if (target.keyType !== undefined && target.keyType !== blobType) {
    throw new CnlabError(
      'invalid-input',
      `the host key is ${blobType} but keyType says ${target.keyType}: pass the key type from the blob (or omit it), not a signature algorithm`,
    );
  }
  return blobType;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
