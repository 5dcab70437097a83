// Where host passwords and key passphrases live when they are not in an environment variable: never in a
// workspace, an inventory, a bundle or a log. A MemorySecretStore keeps them for the session only; an
// EncryptedFileSecretStore keeps only ciphertexts (from an injected cipher, e.g. the OS keyring through
// Electron's safeStorage) in <configDir>/secrets.json, mode 0600. The lookup order at connect time is
// session value → secret store → the environment variable the inventory names.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CnlabError } from '../errors';
import { writeFileAtomic } from '../fs/atomic-write';

export type SecretKind = 'password' | 'passphrase';

export interface SecretRef {
  /** The inventory name of the host. */
  host: string;
  kind: SecretKind;
  /** The workspace folder the host belongs to: the same name in two workspaces may be two hosts. */
  workspace?: string;
}

/**
 * os: encrypted with a key the OS keeps (Keychain, DPAPI, gnome-keyring/kwallet);
 * unprotected: written to disk, but anyone who can read the user's files can recover it;
 * memory: never written, forgotten when cnlab exits.
 */
export type SecretProtection = 'os' | 'unprotected' | 'memory';

export interface SecretStore {
  get(ref: SecretRef): Promise<string | undefined>;
  set(ref: SecretRef, value: string): Promise<void>;
  /** True when something was removed. */
  delete(ref: SecretRef): Promise<boolean>;
  protection(): SecretProtection;
  /** One sentence for the user: how secrets are kept, and the fix when they are not protected. */
  readonly protectionNote: string;
}

function keyOf(ref: SecretRef): string {
  return `${ref.workspace ?? ''}\u0000${ref.host}\u0000${ref.kind}`;
}

/** Secrets for this session only: nothing is written anywhere. */
export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, string>();
  readonly protectionNote = 'secrets are kept in memory for this session only and are asked again after a restart';

  get(ref: SecretRef): Promise<string | undefined> {
    return Promise.resolve(this.values.get(keyOf(ref)));
  }

  set(ref: SecretRef, value: string): Promise<void> {
    this.values.set(keyOf(ref), value);
    return Promise.resolve();
  }

  delete(ref: SecretRef): Promise<boolean> {
    return Promise.resolve(this.values.delete(keyOf(ref)));
  }

  /** Forgets every secret (e.g. another workspace was opened, whose host names mean other hosts). */
  clear(): void {
    this.values.clear();
  }

  protection(): SecretProtection {
    return 'memory';
  }
}

/** Turns a secret into bytes only its owner can turn back (e.g. Electron safeStorage) and back again. */
export interface SecretCipher {
  encrypt(text: string): Promise<Buffer>;
  decrypt(data: Buffer): Promise<string>;
  /** Which backend encrypts (e.g. gnome_libsecret, basic_text, keychain): shown, never trusted blindly. */
  backend: string;
}

export const SECRETS_FILE = 'secrets.json';
const FILE_VERSION = 1;

interface StoredSecret {
  workspace?: string;
  host: string;
  kind: SecretKind;
  /** base64 of the cipher's output. */
  ciphertext: string;
}

interface SecretsFile {
  version: number;
  backend: string;
  secrets: StoredSecret[];
}

function sameRef(entry: StoredSecret, ref: SecretRef): boolean {
  return entry.host === ref.host && entry.kind === ref.kind && (entry.workspace ?? '') === (ref.workspace ?? '');
}

export interface EncryptedFileSecretStoreOptions {
  configDir: string;
  cipher: SecretCipher;
  /** What the cipher's backend is worth: 'os' unless the adapter found it falls back to plain text (default 'os'). */
  protection?: Exclude<SecretProtection, 'memory'>;
  protectionNote?: string;
}

function isSecretsFile(value: unknown): value is SecretsFile {
  if (typeof value !== 'object' || value === null) return false;
  const file = value as Partial<SecretsFile>;
  if (file.version !== FILE_VERSION || typeof file.backend !== 'string' || !Array.isArray(file.secrets)) return false;
  return file.secrets.every(
    (entry: Partial<StoredSecret>) =>
      typeof entry === 'object' &&
      entry !== null &&
      typeof entry.host === 'string' &&
      (entry.kind === 'password' || entry.kind === 'passphrase') &&
      (entry.workspace === undefined || typeof entry.workspace === 'string') &&
      typeof entry.ciphertext === 'string' &&
      /^[A-Za-z0-9+/]+={0,2}$/.test(entry.ciphertext),
  );
}

/** Ciphertexts (base64) in <configDir>/secrets.json, replaced atomically, mode 0600; never a plaintext. */
export class EncryptedFileSecretStore implements SecretStore {
  readonly file: string;
  readonly protectionNote: string;
  private readonly level: Exclude<SecretProtection, 'memory'>;
  /** Writes one after another, so two saves never lose each other's change. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: EncryptedFileSecretStoreOptions) {
    this.file = join(options.configDir, SECRETS_FILE);
    this.level = options.protection ?? 'os';
    this.protectionNote =
      options.protectionNote ??
      (this.level === 'os'
        ? `remembered secrets are encrypted by the operating system's secret store (${options.cipher.backend})`
        : `remembered secrets are NOT protected (${options.cipher.backend}): anyone who can read your files can recover them`);
  }

  protection(): SecretProtection {
    return this.level;
  }

  private async load(): Promise<SecretsFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: FILE_VERSION, backend: this.options.cipher.backend, secrets: [] };
      throw new CnlabError('io', `cannot read the secrets file ${this.file} (${(error as NodeJS.ErrnoException).code ?? 'error'}): check its permissions`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!isSecretsFile(parsed)) {
      throw new CnlabError('io', `the secrets file ${this.file} is damaged or not cnlab's: delete it and give the hosts' passwords and passphrases again`, { file: this.file });
    }
    return parsed;
  }

  private save(file: SecretsFile): Promise<void> {
    return writeFileAtomic(this.file, `${JSON.stringify(file, null, 2)}\n`, 0o600);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async get(ref: SecretRef): Promise<string | undefined> {
    await this.queue;
    const stored = (await this.load()).secrets.find((entry) => sameRef(entry, ref))?.ciphertext;
    if (stored === undefined) return undefined;
    try {
      return await this.options.cipher.decrypt(Buffer.from(stored, 'base64'));
    } catch {
      // Never the cipher's own message: it might quote what it was given.
      throw new CnlabError('io', `cannot decrypt the remembered ${ref.kind} of host ${ref.host} (the OS secret store changed or is locked): unlock it, or forget the ${ref.kind} and give it again`, { host: ref.host });
    }
  }

  set(ref: SecretRef, value: string): Promise<void> {
    return this.serialized(async () => {
      const file = await this.load();
      let ciphertext: Buffer;
      try {
        ciphertext = await this.options.cipher.encrypt(value);
      } catch {
        throw new CnlabError('io', `cannot encrypt the ${ref.kind} of host ${ref.host} with ${this.options.cipher.backend}: unlock the OS secret store, or give it for this session only`, { host: ref.host });
      }
      const entry: StoredSecret = { ...(ref.workspace ? { workspace: ref.workspace } : {}), host: ref.host, kind: ref.kind, ciphertext: ciphertext.toString('base64') };
      file.secrets = [...file.secrets.filter((other) => !sameRef(other, ref)), entry];
      file.backend = this.options.cipher.backend;
      await this.save(file);
    });
  }

  delete(ref: SecretRef): Promise<boolean> {
    return this.serialized(async () => {
      const file = await this.load();
      const kept = file.secrets.filter((entry) => !sameRef(entry, ref));
      if (kept.length === file.secrets.length) return false;
      await this.save({ ...file, secrets: kept });
      return true;
    });
  }
}

/** What a connection asks for: the host, which secret, and the environment variable the inventory names (if any). */
export interface SecretRequest extends SecretRef {
  envName?: string;
  /** The encrypted key a passphrase is for (shown in a prompt). */
  keyFile?: string;
}

/** Finds a secret at connect time; undefined when nobody has it. */
export type SecretLookup = (request: SecretRequest) => Promise<string | undefined>;

export interface SecretSources {
  /** Scopes session and stored values to one workspace's hosts. */
  workspace?: string;
  /** Values given for this session (the console's "do not remember", the CLI's prompt). */
  session?: SecretStore;
  /** Remembered values. */
  store?: SecretStore;
  /** The environment the inventory's variable names are read from. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Asked last (the CLI's prompt on a terminal); its answer is kept in `session`. */
  prompt?: (request: SecretRequest) => Promise<string | undefined>;
}

/** Session value → secret store → the named environment variable → the prompt. */
export function layeredSecretLookup(sources: SecretSources): SecretLookup {
  return async (request) => {
    const ref: SecretRef = { host: request.host, kind: request.kind, ...(sources.workspace ? { workspace: sources.workspace } : {}) };
    const fromSession = await sources.session?.get(ref);
    if (fromSession !== undefined) return fromSession;
    const stored = await sources.store?.get(ref);
    if (stored !== undefined) return stored;
    const fromEnv = request.envName ? sources.env?.[request.envName] : undefined;
    if (fromEnv !== undefined) return fromEnv;
    const prompted = await sources.prompt?.(request);
    if (prompted !== undefined) await sources.session?.set(ref, prompted);
    return prompted;
  };
}

/** Only the environment variables the inventory names (tests and tools without a store). */
export function envSecretLookup(env: Readonly<Record<string, string | undefined>>): SecretLookup {
  return layeredSecretLookup({ env });
}

/** The specific error of a connection that lacks its secret: names the host and the three ways to give it. */
export function missingSecretError(request: SecretRequest): CnlabError {
  const what = request.kind === 'password' ? 'password' : `passphrase of key ${request.keyFile ?? ''}`.trimEnd();
  const ways = [
    request.envName ? `export $${request.envName}` : "name an environment variable that holds it in the host's settings",
    'enter it in the console (remembered in the OS secret store, or for this session only)',
    'run the CLI on a terminal, which asks for it',
  ];
  if (request.kind === 'passphrase') ways.push('load the key into ssh-agent (ssh-add) and log in with the agent');
  return new CnlabError(request.kind === 'password' ? 'auth-failed' : 'key-encrypted', `host ${request.host}: no ${what} is given: ${ways.join(', or ')}`, {
    host: request.host,
    needsSecret: request.kind,
  });
}
