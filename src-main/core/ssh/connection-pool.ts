// One pooled SSH connection per host, shared by every caller: connects on first use, shares
// jump-host connections (reference-counted), reconnects with backoff after a lost connection.
import { CnlabError } from '../errors';
import type { SshHost } from '../hosts/host-model';
import { openSshConnection, type HostKeyVerifier, type SecretLookup, type SshConnection } from './ssh-connection';

export interface ConnectionPoolOptions {
  /** Finds an inventory host by name (jump hosts are looked up through it too). */
  resolveHost: (name: string) => SshHost;
  /** The host-key verifier for a host (its own known_hosts files plus the shared stores). */
  hostKeys: (host: SshHost) => HostKeyVerifier;
  secrets: SecretLookup;
  agentSocket?: string;
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  maxChannelsPerHost?: number;
  /** Waits between reconnect attempts after a connection that once worked was lost. */
  reconnectBackoffMs?: readonly number[];
}

/** Errors worth a retry when a connection that worked before is gone: the host may be restarting. */
const TRANSIENT = new Set(['connection-refused', 'host-unreachable', 'connect-timeout', 'connection-lost']);

interface PoolEntry {
  connecting?: Promise<SshConnection>;
  connection?: SshConnection;
  /** Set once a connection succeeded: later failures are reconnects and get the backoff. */
  everConnected: boolean;
  /** Jump connections held by this host's connection; released when it closes. */
  heldJump?: string;
  refs: number;
  /** Callers use this host themselves, not only as a jump: keep it open when jump users leave. */
  usedDirectly?: boolean;
}

export class SshConnectionPool {
  private readonly entries = new Map<string, PoolEntry>();
  private closed = false;

  constructor(private readonly options: ConnectionPoolOptions) {}

  /** The open connection to a host, connecting (through its jump host) when needed. */
  async connection(name: string): Promise<SshConnection> {
    if (this.closed) throw new CnlabError('internal', 'the connection pool is closed');
    const entry = this.entry(name);
    entry.usedDirectly = true;
    if (entry.connection?.isOpen) return entry.connection;
    entry.connecting ??= this.connectWithRetry(name, entry).finally(() => {
      entry.connecting = undefined;
    });
    return entry.connecting;
  }

  /** Drops a host's connection, e.g. after its inventory entry changed. */
  async disconnect(name: string): Promise<void> {
    const entry = this.entries.get(name);
    this.entries.delete(name);
    await entry?.connection?.close();
  }

  async closeAll(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    // Close hosts behind jumps first so no forwarded channel outlives its carrier needlessly.
    const closeAll = (entries: PoolEntry[]): Promise<unknown> => Promise.all(entries.map((e) => e.connection?.close() ?? Promise.resolve()));
    await closeAll(all.filter((e) => e.heldJump));
    await closeAll(all.filter((e) => !e.heldJump));
  }

  private entry(name: string): PoolEntry {
    let entry = this.entries.get(name);
    if (!entry) {
      entry = { everConnected: false, refs: 0 };
      this.entries.set(name, entry);
    }
    return entry;
  }

  private async connectWithRetry(name: string, entry: PoolEntry): Promise<SshConnection> {
    const backoff = entry.everConnected ? (this.options.reconnectBackoffMs ?? [250, 1000, 2500]) : [];
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.connectOnce(name, entry);
      } catch (error) {
        const wait = backoff[attempt];
        if (wait === undefined || !(error instanceof CnlabError) || !TRANSIENT.has(error.code)) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  private async connectOnce(name: string, entry: PoolEntry, seen: readonly string[] = []): Promise<SshConnection> {
    const host = this.options.resolveHost(name);
    let sock;
    if (host.jump) {
      if (seen.includes(host.jump) || host.jump === name) {
        throw new CnlabError('invalid-input', `host ${name}: jump hosts form a loop (${[...seen, name, host.jump].join(' → ')}): fix the jump settings`);
      }
      const jump = await this.acquireJump(host.jump, [...seen, name]);
      try {
        sock = await jump.forwardOut(host.address, host.port);
      } catch (error) {
        this.releaseJump(host.jump);
        throw error;
      }
    }
    let connection: SshConnection;
    try {
      connection = await openSshConnection({
        host,
        hostKeys: this.options.hostKeys(host),
        secrets: this.options.secrets,
        ...(sock ? { sock } : {}),
        ...(this.options.agentSocket ? { agentSocket: this.options.agentSocket } : {}),
        ...(this.options.connectTimeoutMs ? { connectTimeoutMs: this.options.connectTimeoutMs } : {}),
        ...(this.options.keepaliveIntervalMs ? { keepaliveIntervalMs: this.options.keepaliveIntervalMs } : {}),
        ...(this.options.maxChannelsPerHost ? { maxChannels: this.options.maxChannelsPerHost } : {}),
      });
    } catch (error) {
      if (host.jump) this.releaseJump(host.jump);
      throw error;
    }
    entry.connection = connection;
    entry.everConnected = true;
    if (host.jump) {
      entry.heldJump = host.jump;
      connection.onClose(() => {
        entry.heldJump = undefined;
        this.releaseJump(host.jump as string);
      });
    }
    return connection;
  }

  private async acquireJump(name: string, seen: readonly string[]): Promise<SshConnection> {
    const entry = this.entry(name);
    entry.refs += 1;
    try {
      if (entry.connection?.isOpen) return entry.connection;
      entry.connecting ??= this.connectOnce(name, entry, seen).finally(() => {
        entry.connecting = undefined;
      });
      return await entry.connecting;
    } catch (error) {
      entry.refs -= 1;
      throw error;
    }
  }

  /** A jump connection nobody routes through any more is closed unless it is used directly. */
  private releaseJump(name: string): void {
    const entry = this.entries.get(name);
    if (!entry) return;
    entry.refs = Math.max(0, entry.refs - 1);
    if (entry.refs === 0 && entry.usedDirectly !== true) {
      void entry.connection?.close();
    }
  }
}
