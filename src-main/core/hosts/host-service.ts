// The hosts area of core, as the CLI, the Electron main process and the browser-mode server use it:
// inventory, one executor per host over the shared connection pool, trust decisions and fact probes.
import { isIP } from 'node:net';
import { join } from 'node:path';
import { CnlabError } from '../errors';
import { JournalingExecutor, type CommandJournal } from '../exec/command-journal';
import type { HostExecutor, Privilege } from '../exec/executor';
import { LocalExecutor } from '../exec/local-executor';
import { RemoteExecutor } from '../exec/remote-executor';
import { SshConnectionPool } from '../ssh/connection-pool';
import { HostKeyStore } from '../ssh/host-key-store';
import type { SecretLookup } from '../ssh/ssh-connection';
import { userKnownHostsFiles } from '../workspace/paths';
import { FactsCache } from './facts-cache';
import { probeHostFacts } from './facts-probe';
import type { HostFacts } from './host-facts';
import type { SshHost } from './host-model';
import { HostInventory } from './inventory';

export interface HostServiceOptions {
  workspaceDir: string;
  configDir: string;
  homeDir: string;
  secrets: SecretLookup;
  agentSocket?: string;
  connectTimeoutMs?: number;
  /** Records every command run on every host (the console's log drawer). */
  journal?: CommandJournal;
}

export interface ConnectionCheck {
  host: string;
  connectMs: number;
  /** One command round trip on the already open connection. */
  execRoundTripMs: number;
  privilege: Privilege;
}

export class HostService {
  private readonly executors = new Map<string, HostExecutor>();
  private readonly pool: SshConnectionPool;
  private readonly keyStoreFile: string;
  readonly facts: FactsCache;

  private constructor(
    readonly inventory: HostInventory,
    private readonly options: HostServiceOptions,
  ) {
    this.keyStoreFile = join(options.configDir, 'known_hosts');
    this.facts = new FactsCache(join(options.workspaceDir, 'cache', 'facts'));
    this.pool = new SshConnectionPool({
      resolveHost: (name) => this.inventory.getSsh(name),
      hostKeys: (host) => this.keyStore(host),
      secrets: options.secrets,
      ...(options.agentSocket ? { agentSocket: options.agentSocket } : {}),
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
    });
  }

  get workspaceDir(): string {
    return this.options.workspaceDir;
  }

  static async open(options: HostServiceOptions): Promise<HostService> {
    return new HostService(await HostInventory.load(options.workspaceDir), options);
  }

  /** Host keys are checked against the user's known_hosts, the host's own files and cnlab's store. */
  keyStore(host: SshHost): HostKeyStore {
    return new HostKeyStore({
      trustedFiles: [...userKnownHostsFiles(this.options.homeDir), ...host.knownHostsFiles],
      storeFile: this.keyStoreFile,
    });
  }

  executor(name: string): HostExecutor {
    let executor = this.executors.get(name);
    if (!executor) {
      const host = this.inventory.get(name);
      executor = host.kind === 'local' ? new LocalExecutor(name) : new RemoteExecutor(name, this.pool);
      if (this.options.journal) executor = new JournalingExecutor(executor, this.options.journal);
      this.executors.set(name, executor);
    }
    return executor;
  }

  /** Connects (verifying the host key), times one round trip, and reports the privilege. */
  async checkConnection(name: string): Promise<ConnectionCheck> {
    const executor = this.executor(name);
    const started = performance.now();
    const privilege = await executor.privilege();
    const connectMs = performance.now() - started;
    const trip = performance.now();
    await executor.exec('true', { timeoutMs: 15_000 });
    return { host: name, connectMs, execRoundTripMs: performance.now() - trip, privilege };
  }

  /**
   * Trust-on-first-use, made explicit: stores exactly the key a `host-key-unknown` error showed.
   * A changed or revoked key is never trusted here.
   */
  async trustPresentedKey(error: CnlabError): Promise<void> {
    if (error.code !== 'host-key-unknown') {
      throw new CnlabError('invalid-input', `only an unknown host key can be trusted, not a ${error.code} one`);
    }
    const { host: name, address, port, keyType, keyBlob } = error.details as { host: string; address: string; port: number; keyType: string; keyBlob: string };
    const host = this.inventory.getSsh(name);
    await this.keyStore(host).trust({ host: address, port, keyType, keyBlob: Buffer.from(keyBlob, 'base64') });
    await this.pool.disconnect(name);
  }

  /**
   * Removes cnlab's own stored keys for a host's address and port (never the user's known_hosts), so the
   * next connection shows the host's current key for an explicit trust decision. The fix for a changed
   * key after checking the new fingerprint with the host's admin; deliberately not offered in the UI.
   */
  async forgetHostKey(name: string): Promise<number> {
    const host = this.inventory.getSsh(name);
    const removed = await this.keyStore(host).forget(host.address, host.port);
    await this.pool.disconnect(name);
    return removed;
  }

  /** Probes a host's facts in one round trip and caches them with their time. */
  async probe(name: string): Promise<HostFacts> {
    const host = this.inventory.get(name);
    const managementAddress = host.kind === 'ssh' && isIP(host.address) ? host.address : undefined;
    const facts = await probeHostFacts(this.executor(name), managementAddress ? { managementAddress } : {});
    await this.facts.save(name, facts);
    return facts;
  }

  /** Forgets a host's executor and connection, e.g. after it was edited or removed. */
  async forget(name: string): Promise<void> {
    this.executors.delete(name);
    await this.pool.disconnect(name);
  }

  async close(): Promise<void> {
    this.executors.clear();
    await this.pool.closeAll();
  }
}
