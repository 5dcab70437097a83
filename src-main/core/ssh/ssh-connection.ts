// One authenticated SSH connection to one host: host key verified before authentication,
// Nagle off, keepalive on, and channels capped below sshd's MaxSessions.
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { Client, utils, type ClientChannel, type ConnectConfig } from 'ssh2';
import { CnlabError } from '../errors';
import type { SshHost } from '../hosts/host-model';
import { missingSecretError, type SecretLookup, type SecretRequest } from '../hosts/secret-store';
import { Semaphore } from '../exec/semaphore';
import type { HostKeyTarget } from './known-hosts';
import { describeConnectError } from './ssh-errors';

/** Verifies a host's key: resolves when trusted, rejects with a host-key CnlabError otherwise. */
export interface HostKeyVerifier {
  verify(target: HostKeyTarget): Promise<unknown>;
}

/** Finds a password or passphrase at connect time (session → secret store → the inventory's env var). */
export type { SecretLookup } from '../hosts/secret-store';

export interface SshConnectOptions {
  host: SshHost;
  hostKeys: HostKeyVerifier;
  secrets: SecretLookup;
  /** A stream to the host's sshd, e.g. a forwardOut channel through a jump host. */
  sock?: Duplex;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  /** OpenSSH allows 10 sessions per connection by default; stay below it. */
  maxChannels?: number;
  /** ssh-agent socket when the auth type is agent and the host names none. */
  agentSocket?: string;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_GRACE_MS = 1_000;
const SESSION_RETRIES = 8;

/** sshd answers a session it will not open (MaxSessions reached) with a generic open failure. */
function isSessionRefusal(error: unknown): boolean {
  return error instanceof Error && /open failed|administratively prohibited|resource shortage/i.test(error.message);
}

/** Channels a connection opens at once by default: below OpenSSH's MaxSessions of 10, with one to spare for kills. */
export const DEFAULT_MAX_CHANNELS = 8;

export class SshConnection {
  private open = true;
  private readonly closeListeners = new Set<(error?: CnlabError) => void>();
  private readonly channels: Semaphore;
  /** One slot kept apart for stopping commands: a cancel must work even when every other slot is busy. */
  private readonly killChannel = new Semaphore(1);
  private lostReason?: CnlabError;

  constructor(
    readonly host: SshHost,
    private readonly client: Client,
    maxChannels: number,
  ) {
    this.channels = new Semaphore(maxChannels);
    client.on('error', (error) => {
      this.lostReason ??= new CnlabError('connection-lost', `host ${host.name}: the SSH connection failed: ${error.message}`, { host: host.name });
    });
    client.on('close', () => this.markClosed());
  }

  private markClosed(): void {
    if (!this.open) return;
    this.open = false;
    const reason = this.lostReason ?? new CnlabError('connection-lost', `host ${this.host.name}: the SSH connection closed`, { host: this.host.name });
    for (const listener of this.closeListeners) listener(reason);
  }

  get isOpen(): boolean {
    return this.open;
  }

  onClose(listener: (error?: CnlabError) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * Opens an exec channel once a channel slot is free; the slot frees when the channel closes.
   * A host that refuses a session (its MaxSessions is lower than our cap, or it has not yet freed a
   * session that just ended) gets a smaller cap and the open is retried when a slot frees up.
   */
  async exec(command: string, options: { forKill?: boolean } = {}): Promise<ClientChannel> {
    const slots = options.forKill ? this.killChannel : this.channels;
    for (let attempt = 0; ; attempt += 1) {
      const release = await slots.acquire();
      try {
        this.assertOpen();
        const channel = await new Promise<ClientChannel>((resolve, reject) => {
          this.client.exec(command, (error, stream) => (error ? reject(error) : resolve(stream)));
        });
        channel.once('close', release);
        return channel;
      } catch (error) {
        const othersOpen = this.channels.inUse - (options.forKill ? 0 : 1);
        release();
        if (!this.open || !isSessionRefusal(error) || attempt >= SESSION_RETRIES) throw this.channelError(error);
        if (othersOpen > 0 && !options.forKill) this.channels.shrinkTo(othersOpen);
        await new Promise((resolve) => setTimeout(resolve, 20 * (attempt + 1)));
      }
    }
  }

  /** A TCP stream from this host to another address, used to reach hosts behind a jump host. */
  async forwardOut(address: string, port: number): Promise<Duplex> {
    const release = await this.channels.acquire();
    try {
      this.assertOpen();
      const channel = await new Promise<ClientChannel>((resolve, reject) => {
        this.client.forwardOut('127.0.0.1', 0, address, port, (error, stream) => (error ? reject(error) : resolve(stream)));
      });
      channel.once('close', release);
      return channel;
    } catch (error) {
      release();
      const text = error instanceof Error ? error.message : String(error);
      throw new CnlabError('host-unreachable', `jump host ${this.host.name} could not open a connection to ${address}:${port} (${text}): check the address and that the jump host may forward TCP`, { host: this.host.name });
    }
  }

  /** Ends the connection politely; a peer that does not answer within a second is cut off. */
  close(): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => {
      // A connection carried by a jump host's channel may never report 'close' once its far end
      // died silently, so the cut-off resolves by itself rather than waiting for the event.
      const cutOff = setTimeout(() => {
        this.client.destroy();
        this.markClosed();
        resolve();
      }, CLOSE_GRACE_MS);
      this.client.once('close', () => {
        clearTimeout(cutOff);
        resolve();
      });
      this.client.end();
    });
  }

  private assertOpen(): void {
    if (!this.open) throw this.lostReason ?? new CnlabError('connection-lost', `host ${this.host.name}: the SSH connection is closed`, { host: this.host.name });
  }

  private channelError(error: unknown): CnlabError {
    if (error instanceof CnlabError) return error;
    const text = error instanceof Error ? error.message : String(error);
    if (!this.open) return this.lostReason ?? new CnlabError('connection-lost', `host ${this.host.name}: the SSH connection closed`, { host: this.host.name });
    return new CnlabError('connection-lost', `host ${this.host.name}: could not open an SSH channel (${text}): check sshd's MaxSessions on the host`, { host: this.host.name });
  }
}

async function authConfig(options: SshConnectOptions): Promise<Partial<ConnectConfig>> {
  const { host, secrets } = options;
  const auth = host.auth;
  if (auth.type === 'password') {
    const request: SecretRequest = { host: host.name, kind: 'password', ...(auth.passwordEnv ? { envName: auth.passwordEnv } : {}) };
    const password = await secrets(request);
    if (password === undefined) throw missingSecretError(request);
    return { password, tryKeyboard: false };
  }
  if (auth.type === 'agent') {
    const agent = auth.socket ?? options.agentSocket;
    if (!agent) throw new CnlabError('invalid-input', `host ${host.name}: uses ssh-agent but no agent socket is known: start ssh-agent (SSH_AUTH_SOCK) or give a key file`, { host: host.name });
    return { agent };
  }
  let privateKey: Buffer;
  try {
    privateKey = await readFile(auth.keyFile);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new CnlabError('key-unreadable', `host ${host.name}: cannot read key file ${auth.keyFile} (${code}): check the path and its permissions`, { host: host.name });
  }
  const request: SecretRequest = { host: host.name, kind: 'passphrase', keyFile: auth.keyFile, ...(auth.passphraseEnv ? { envName: auth.passphraseEnv } : {}) };
  // A key named with a passphrase variable needs one; any other key is asked for one only when it is encrypted.
  let passphrase = auth.passphraseEnv ? await secrets(request) : undefined;
  if (auth.passphraseEnv && passphrase === undefined) throw missingSecretError(request);
  let parsed = utils.parseKey(privateKey, passphrase);
  if (parsed instanceof Error && passphrase === undefined && /encrypted|passphrase/i.test(parsed.message)) {
    passphrase = await secrets(request);
    if (passphrase === undefined) throw missingSecretError(request);
    parsed = utils.parseKey(privateKey, passphrase);
  }
  if (parsed instanceof Error) {
    if (/encrypted|passphrase|decrypt/i.test(parsed.message)) {
      // The secret was wrong: say where it came from, never what it was.
      throw new CnlabError('key-encrypted', `host ${host.name}: the passphrase given for key file ${auth.keyFile} does not decrypt it: give the right one (${auth.passphraseEnv ? `$${auth.passphraseEnv}, ` : ''}the console or the CLI prompt)`, { host: host.name, needsSecret: 'passphrase' });
    }
    throw new CnlabError('key-unreadable', `host ${host.name}: key file ${auth.keyFile} is not a private key ssh can use (${parsed.message})`, { host: host.name });
  }
  return { privateKey, ...(passphrase !== undefined ? { passphrase } : {}) };
}

/** Puts the inventory name in front of the store's message and keeps the key for a trust decision. */
function hostKeyRefusal(host: SshHost, keyBlob: Buffer, error: unknown): CnlabError {
  if (!(error instanceof CnlabError)) {
    return new CnlabError('io', `host ${host.name}: cannot read the known host keys: ${String(error)}`, { host: host.name });
  }
  return new CnlabError(error.code, `host ${host.name}: ${error.message}`, {
    ...error.details,
    host: host.name,
    address: host.address,
    port: host.port,
    // The key travels with the error so a trust decision stores exactly the key that was shown.
    keyBlob: keyBlob.toString('base64'),
  });
}

/** Connects, verifies the host key against the stores (never silently), authenticates. */
export async function openSshConnection(options: SshConnectOptions): Promise<SshConnection> {
  const { host } = options;
  const auth = await authConfig(options);
  const client = new Client();
  let keyRefusal: CnlabError | null = null;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;

  const ready = new Promise<void>((resolve, reject) => {
    // A hard deadline over DNS, TCP and the handshake, so no failure mode can hang.
    const deadline = setTimeout(() => {
      client.destroy();
      reject(Object.assign(new Error('Timed out while waiting for handshake'), { code: 'ETIMEDOUT' }));
    }, timeoutMs + 1000);
    client.once('ready', () => {
      clearTimeout(deadline);
      resolve();
    });
    client.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    client.once('close', () => {
      clearTimeout(deadline);
      reject(Object.assign(new Error('connection closed'), { code: 'ECONNRESET' }));
    });
  });

  client.connect({
    host: host.address,
    port: host.port,
    username: host.user,
    ...(options.sock ? { sock: options.sock } : {}),
    readyTimeout: timeoutMs,
    keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: 3,
    ...auth,
    hostVerifier: (keyBlob: Buffer, verify: (valid: boolean) => void) => {
      options.hostKeys.verify({ host: host.address, port: host.port, keyBlob }).then(
        () => verify(true),
        (error: unknown) => {
          keyRefusal = hostKeyRefusal(host, keyBlob, error);
          verify(false);
        },
      );
    },
  });
  // ssh2 connects its own socket; Nagle costs about 40 ms per exec round trip (measured here).
  client.on('connect', () => client.setNoDelay(true));

  try {
    await ready;
    client.setNoDelay(true);
  } catch (error) {
    client.destroy();
    throw keyRefusal ?? describeConnectError(host, error);
  }
  const connection = new SshConnection(host, client, options.maxChannels ?? DEFAULT_MAX_CHANNELS);
  // Through a jump host the transport is a forwarded channel: when it ends, so does this connection.
  options.sock?.once('close', () => client.destroy());
  return connection;
}
