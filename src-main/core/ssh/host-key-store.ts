// Host key trust across files: the user's known_hosts files (read-only to cnlab) plus cnlab's own store,
// which cnlab alone writes: trusting a key appends to it, forgetting a host removes cnlab's entries only.

import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CnlabError, type ErrorCode } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';
import { fingerprintSha256 } from './host-key';
import {
  checkHostKey,
  formatKnownHostsLine,
  hashKnownHostsName,
  knownHostsName,
  parseKnownHosts,
  parseKnownHostsLine,
  targetKeyType,
  type HostKeyCheck,
  type HostKeyTarget,
  type KnownHostsEntry,
} from './known-hosts';

export interface HostKeyStoreOptions {
  /** Files cnlab reads but never writes: ~/.ssh/known_hosts, an ssh_config's UserKnownHostsFile… */
  trustedFiles: string[];
  /** cnlab's own known_hosts: read like the others, and the only file trust() and forget() change. */
  storeFile: string;
}

export interface HostKeyLocation {
  file: string;
  line: number;
}

export type HostKeyVerdict =
  | { status: 'trusted'; at: HostKeyLocation }
  | { status: 'unknown'; otherTypesKnown: string[] }
  | { status: 'changed'; knownFingerprints: string[]; at: HostKeyLocation[] }
  | { status: 'revoked'; at: HostKeyLocation };

/** A verdict plus the facts a prompt or an error message needs. */
export type HostKeyStoreCheck = HostKeyVerdict & {
  host: string;
  port: number;
  keyType: string;
  fingerprint: string;
  /** Malformed lines that were skipped, as `file:line: message`. */
  warnings: string[];
};

export interface FileCheck {
  file: string;
  check: HostKeyCheck;
}

/**
 * Combines per-file answers: revoked anywhere wins, then changed, then trusted, then unknown. Changed
 * beats trusted on purpose: two files disagreeing about a host's key is worth a stop (OpenSSH would
 * accept the key here because it merges all files first; cnlab prefers to make the user clean up).
 */
export function combineChecks(results: readonly FileCheck[]): HostKeyVerdict {
  for (const { file, check } of results) {
    if (check.status === 'revoked') return { status: 'revoked', at: { file, line: check.line } };
  }
  const changed = results.flatMap(({ file, check }) => (check.status === 'changed' ? [{ file, check }] : []));
  if (changed.length > 0) {
    return {
      status: 'changed',
      knownFingerprints: [...new Set(changed.flatMap(({ check }) => check.knownFingerprints))],
      at: changed.flatMap(({ file, check }) => check.lines.map((line) => ({ file, line }))),
    };
  }
  for (const { file, check } of results) {
    if (check.status === 'trusted') return { status: 'trusted', at: { file, line: check.line } };
  }
  const otherTypes = results.flatMap(({ check }) => (check.status === 'unknown' ? check.otherTypesKnown : []));
  return { status: 'unknown', otherTypesKnown: [...new Set(otherTypes)] };
}

/** Refuses host strings that would become patterns, lists or markers in a known_hosts line. */
export function assertPlainHost(host: string, port: number): void {
  if (!/^[A-Za-z0-9_.:%-]{1,253}$/.test(host) || host.startsWith('-')) {
    throw new CnlabError(
      'invalid-input',
      `${JSON.stringify(host)} is not a plain host name or IP address: known_hosts entries are written for one concrete host (no spaces, commas, wildcards or brackets)`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CnlabError('invalid-input', `port ${port} is not a TCP port: use a whole number from 1 to 65535`);
  }
}

/** Whether an entry names exactly this host:port: literally or by hash, never through a wildcard. */
function namesHostLiterally(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hosts.kind === 'hashed') return entry.hosts.hash.equals(hashKnownHostsName(name, entry.hosts.salt));
  return entry.hosts.patterns.some((pattern) => pattern.toLowerCase() === name);
}

/**
 * Removes entries that name this host:port literally (optionally only those `select` picks); in a line
 * listing several names only this one is dropped, so other hosts keep their trust. Marker lines stay:
 * forgetting a host must never lift a revocation. Other lines, comments and bad lines stay verbatim.
 */
export function removeHostEntries(
  text: string,
  host: string,
  port: number,
  select: (entry: KnownHostsEntry) => boolean = () => true,
): { text: string; removed: number } {
  const name = knownHostsName(host, port);
  let removed = 0;
  const kept: string[] = [];
  text.split('\n').forEach((line, index) => {
    const parsed = parseKnownHostsLine(line, index + 1);
    const entry = parsed.kind === 'entry' ? parsed.entry : undefined;
    if (!entry || entry.marker !== undefined || !namesHostLiterally(entry, name) || !select(entry)) {
      kept.push(line);
      return;
    }
    removed += 1;
    const others = entry.hosts.kind === 'patterns' ? entry.hosts.patterns.filter((pattern) => pattern.toLowerCase() !== name) : [];
    const fields = /^([ \t]*)(\S+)([ \t].*)$/.exec(line);
    if (others.length > 0 && fields) kept.push(`${fields[1]}${others.join(',')}${fields[3]}`);
  });
  return { text: kept.join('\n'), removed };
}

/** Appends one line, adding the newline a hand-edited file may lack at its end. */
export function appendLine(text: string, line: string): string {
  if (text === '') return `${line}\n`;
  return `${text.endsWith('\n') ? text : `${text}\n`}${line}\n`;
}

/** The error to show for a verdict that does not allow connecting; undefined when trusted. */
export function hostKeyError(check: HostKeyStoreCheck, storeFile: string): CnlabError | undefined {
  const where = check.port === 22 ? check.host : `${check.host} port ${check.port}`;
  const key = `${check.keyType} key ${check.fingerprint}`;
  const details = {
    host: check.host,
    port: check.port,
    keyType: check.keyType,
    fingerprint: check.fingerprint,
  };
  const make = (code: ErrorCode, message: string, extra: Record<string, unknown>): CnlabError =>
    new CnlabError(code, message, { ...details, ...extra });

  switch (check.status) {
    case 'trusted':
      return undefined;
    case 'revoked':
      return make(
        'host-key-revoked',
        `${where} presented ${key}, which ${check.at.file} line ${check.at.line} marks @revoked: refusing to connect. Ask the host's admin for its new key; delete that line only if the revocation was a mistake.`,
        { file: check.at.file, line: check.at.line },
      );
    case 'changed': {
      const places = check.at.map((at) => `${at.file} line ${at.line}`).join(', ');
      const fixes = [...new Set(check.at.map((at) => at.file))].map((file) =>
        file === storeFile
          ? `remove cnlab's stored key with \`cnlab hosts forget-key <host name>\` (it edits only ${file})`
          : `ssh-keygen -R '${knownHostsName(check.host, check.port)}' -f '${file}'`,
      );
      return make(
        'host-key-changed',
        `${where} presented ${key}, but ${places} hold(s) ${check.knownFingerprints.join(', ')} for it. ` +
          `Someone may be intercepting the connection, or the host was reinstalled. Check the new fingerprint with the host's admin ` +
          `(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host); if it is right, remove the old key: ${fixes.join('; ')}; then trust the new key.`,
        { knownFingerprints: check.knownFingerprints, locations: check.at },
      );
    }
    case 'unknown': {
      const others = check.otherTypesKnown.length > 0 ? ` (keys of other types are known: ${check.otherTypesKnown.join(', ')})` : '';
      return make(
        'host-key-unknown',
        `${where} presented ${key}, which no known_hosts file lists${others}. Compare it with the host's own fingerprint ` +
          `(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the host); if it matches, trust it and cnlab records it in ${storeFile}.`,
        { otherTypesKnown: check.otherTypesKnown },
      );
    }
  }
}

export class HostKeyStore {
  private readonly trustedFiles: string[];
  private readonly storeFile: string;
  /** Serialises this store's writes: two trust() calls must not both read the old text and race. */
  private writeQueue: Promise<unknown> = Promise.resolve();

  constructor(options: HostKeyStoreOptions) {
    this.storeFile = resolve(options.storeFile);
    this.trustedFiles = options.trustedFiles.map((file) => resolve(file));
  }

  /** Re-reads every file on each call: files are small, and a cache could miss an edit by the user. */
  async check(target: HostKeyTarget): Promise<HostKeyStoreCheck> {
    const keyType = targetKeyType(target);
    const files = [...new Set([...this.trustedFiles, this.storeFile])];
    const results: FileCheck[] = [];
    const warnings: string[] = [];
    for (const file of files) {
      const text = await readKnownHostsFile(file);
      if (text === undefined) continue;
      const parsed = parseKnownHosts(text);
      warnings.push(...parsed.warnings.map((warning) => `${file}:${warning.line}: ${warning.message}`));
      results.push({ file, check: checkHostKey(parsed.entries, target) });
    }
    return {
      ...combineChecks(results),
      host: target.host,
      port: target.port,
      keyType,
      fingerprint: fingerprintSha256(target.keyBlob),
      warnings,
    };
  }

  /** check(), then throw the matching host-key-* CnlabError unless the key is trusted. */
  async verify(target: HostKeyTarget): Promise<HostKeyStoreCheck> {
    const result = await this.check(target);
    const error = hostKeyError(result, this.storeFile);
    if (error) throw error;
    return result;
  }

  /**
   * Records the key in cnlab's store, replacing cnlab's older key of the same type for this host:port.
   * Returns the verdict afterwards: still 'changed' when a read-only file holds an older key, which the
   * user must remove there. A revoked key is refused.
   */
  async trust(target: HostKeyTarget): Promise<HostKeyStoreCheck> {
    assertPlainHost(target.host, target.port);
    const keyType = targetKeyType(target);
    const before = await this.check(target);
    const refusal = before.status === 'revoked' ? hostKeyError(before, this.storeFile) : undefined;
    if (refusal) throw refusal;
    await this.exclusive(async () => {
      const text = (await readKnownHostsFile(this.storeFile)) ?? '';
      const current = parseKnownHosts(text).entries.some(
        (entry) => entry.marker === undefined && entry.keyBlob.equals(target.keyBlob) && entryIsFor(entry, target.host, target.port),
      );
      if (current) return;
      const replaced = removeHostEntries(text, target.host, target.port, (entry) => entry.keyType === keyType).text;
      await writeStoreFile(this.storeFile, appendLine(replaced, formatKnownHostsLine(target.host, target.port, target.keyBlob)));
    });
    return this.check(target);
  }

  /** Removes cnlab's own entries for host:port; returns how many. The read-only files are never touched. */
  async forget(host: string, port: number): Promise<number> {
    assertPlainHost(host, port);
    return this.exclusive(async () => {
      const text = await readKnownHostsFile(this.storeFile);
      if (text === undefined) return 0;
      const result = removeHostEntries(text, host, port);
      if (result.removed > 0) await writeStoreFile(this.storeFile, result.text);
      return result.removed;
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const next = this.writeQueue.then(work, work);
    this.writeQueue = next.catch(() => undefined);
    return next;
  }
}

function entryIsFor(entry: KnownHostsEntry, host: string, port: number): boolean {
  return namesHostLiterally(entry, knownHostsName(host, port));
}

/** Reads a known_hosts file; a missing one is empty (undefined), any other failure is an error. */
async function readKnownHostsFile(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    // Not "empty": an unreadable file may hold a @revoked line the user relies on.
    throw new CnlabError(
      'io',
      `cannot read known_hosts file ${file} (${code ?? String(error)}): make it readable by this user (chmod 600) or remove it from the trusted known_hosts files`,
      { file },
      { cause: error },
    );
  }
}

/** Crash-safe replacement (see writeFileAtomic); the folder is created 0700 and the file 0600 first. */
async function writeStoreFile(file: string, text: string): Promise<void> {
  const dir = dirname(file);
  try {
    // mode applies only to folders created here: an existing ~/.config keeps the user's own mode.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, text, 0o600);
  } catch (error) {
    throw new CnlabError(
      'io',
      `cannot write cnlab's known_hosts file ${file} (${errnoCode(error) ?? String(error)}): make ${dir} writable by this user or choose another store file`,
      { file },
      { cause: error },
    );
  }
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
