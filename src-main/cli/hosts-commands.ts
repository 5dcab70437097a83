// `cnlab hosts …`: add, list, remove, check, probe and import lab hosts. Thin: parses flags,
// calls the core HostService, prints. Unknown host keys are trusted only with --trust-new-key.
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { CnlabError } from '../core/errors';
import type { HostAuth, HostInput } from '../core/hosts/host-model';
import type { HostService } from '../core/hosts/host-service';
import { importSshConfig } from '../core/hosts/ssh-config-import';
import { formatFactsSummary } from './facts-summary';
import { withHostService, type GlobalOptions } from './cli-context';
import { formatTable, printJson, type CliIo } from './output';

interface AddOptions {
  address?: string;
  port?: string;
  user?: string;
  key?: string;
  passphraseEnv?: string;
  passwordEnv?: string;
  /** Password login without a variable: asked for on the terminal when connecting. */
  password?: boolean;
  agent?: boolean;
  jump?: string;
  label?: 'vm' | 'bare-metal';
  notes?: string;
  local?: boolean;
  trustNewKey?: boolean;
  check: boolean;
}

function usage(message: string): CnlabError {
  return new CnlabError('usage', message);
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usage(`--port ${text} is not a port number (1-65535)`);
  return port;
}

/** --key, --password-env or --agent; else ssh-agent if running, else the user's default key. */
function chooseAuth(options: AddOptions, env: NodeJS.ProcessEnv): HostAuth {
  const chosen = [options.key, options.passwordEnv || options.password, options.agent].filter(Boolean).length;
  if (chosen > 1) throw usage('give only one of --key, --password-env (or --password) and --agent');
  if (options.passphraseEnv && !options.key) throw usage('--passphrase-env goes with --key');
  if (options.key) {
    return { type: 'key', keyFile: resolve(options.key), ...(options.passphraseEnv ? { passphraseEnv: options.passphraseEnv } : {}) };
  }
  if (options.passwordEnv) return { type: 'password', passwordEnv: options.passwordEnv };
  if (options.password) return { type: 'password' };
  if (options.agent || env.SSH_AUTH_SOCK) return { type: 'agent' };
  const home = env.HOME || homedir();
  const defaultKey = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((file) => join(home, '.ssh', file)).find((file) => existsSync(file));
  if (defaultKey) return { type: 'key', keyFile: defaultKey };
  throw usage('no way to log in: give --key FILE, --password-env VAR or --agent');
}

function hostInputFrom(name: string, options: AddOptions, env: NodeJS.ProcessEnv): HostInput {
  const common = { name, ...(options.label ? { label: options.label } : {}), ...(options.notes ? { notes: options.notes } : {}) };
  if (options.local) {
    if (options.address || options.jump || options.key || options.passwordEnv || options.password) throw usage('--local takes no address, jump or credentials');
    return { ...common, kind: 'local' };
  }
  if (!options.address) throw usage(`hosts add ${name}: give --address ADDRESS (or --local for this machine)`);
  const port = parsePort(options.port);
  return {
    ...common,
    kind: 'ssh',
    address: options.address,
    ...(port ? { port } : {}),
    user: options.user ?? 'root',
    auth: chooseAuth(options, env),
    ...(options.jump ? { jump: options.jump } : {}),
  };
}

/** Connects once; with trustNewKey an unknown key is stored (and shown on stderr), then retried. */
async function checkWithTrust(service: HostService, name: string, trustNewKey: boolean, io: CliIo) {
  try {
    return await service.checkConnection(name);
  } catch (error) {
    if (!(error instanceof CnlabError) || error.code !== 'host-key-unknown') throw error;
    const fingerprint = String(error.details.fingerprint);
    if (!trustNewKey) {
      throw new CnlabError('host-key-unknown', `${error.message.replace(/\.$/, '')} — to trust ${fingerprint}, rerun with --trust-new-key`, error.details);
    }
    io.stderr(`cnlab: trusting host ${name}'s new key ${String(error.details.keyType)} ${fingerprint}\n`);
    await service.trustPresentedKey(error);
    return service.checkConnection(name);
  }
}

function formatMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

export function registerHostsCommands(program: Command, io: CliIo, globals: () => GlobalOptions): void {
  const hosts = program.command('hosts').description('manage the lab hosts of the workspace');

  hosts
    .command('add <name>')
    .description('add a lab host (connects once to verify its key unless --no-check)')
    .option('--address <address>', 'host name or IP address to SSH to')
    .option('--port <port>', 'SSH port (default 22)')
    .option('--user <user>', 'login user (default root)')
    .option('--key <file>', 'private key file')
    .option('--passphrase-env <var>', 'environment variable that holds the key passphrase')
    .option('--password-env <var>', 'environment variable that holds the password')
    .option('--password', 'log in with a password asked for on the terminal when connecting (never saved)')
    .option('--agent', 'authenticate with ssh-agent')
    .option('--jump <host>', 'reach it through this inventory host (ProxyJump)')
    .option('--label <label>', 'bare-metal or vm')
    .option('--notes <text>', 'free text')
    .option('--local', 'this machine, without SSH')
    .option('--trust-new-key', 'trust the host key if it is not known yet (shows its fingerprint)')
    .option('--no-check', 'save without connecting')
    .action(async (name: string, options: AddOptions) => {
      const { json } = globals();
      if (options.label && options.label !== 'vm' && options.label !== 'bare-metal') throw usage('--label is bare-metal or vm');
      const input = hostInputFrom(name, options, process.env);
      await withHostService(globals(), async (service) => {
        const host = service.inventory.add(input);
        const check = options.check ? await checkWithTrust(service, name, options.trustNewKey === true, io) : null;
        await service.inventory.save();
        if (json) printJson(io, { host, check });
        else {
          io.stdout(`added host ${name}${host.kind === 'local' ? ' (this machine)' : ` (${host.user}@${host.address}:${host.port})`}\n`);
          if (check) io.stdout(`connected in ${formatMs(check.connectMs)}, round trip ${formatMs(check.execRoundTripMs)}, privilege: ${check.privilege.kind}\n`);
        }
      });
    });

  hosts
    .command('check <name>')
    .description('connect to a host, verify its key and report latency and privilege')
    .option('--trust-new-key', 'trust the host key if it is not known yet')
    .action(async (name: string, options: { trustNewKey?: boolean }) => {
      await withHostService(globals(), async (service) => {
        const check = await checkWithTrust(service, name, options.trustNewKey === true, io);
        if (globals().json) printJson(io, check);
        else io.stdout(`host ${name}: connected in ${formatMs(check.connectMs)}, round trip ${formatMs(check.execRoundTripMs)}, privilege: ${check.privilege.kind}\n`);
      });
    });

  hosts
    .command('list')
    .description('list the hosts of the workspace')
    .action(async () => {
      await withHostService(globals(), async (service) => {
        const list = service.inventory.list();
        const probed = await Promise.all(list.map(async (host) => (await service.facts.load(host.name))?.probedAt ?? null));
        if (globals().json) {
          printJson(io, list.map((host, index) => ({ ...host, factsProbedAt: probed[index] })));
          return;
        }
        if (list.length === 0) {
          io.stdout('no hosts yet: add one with `cnlab hosts add NAME --address ADDRESS` or `cnlab hosts add local --local`\n');
          return;
        }
        const rows = list.map((host, index) => [
          host.name,
          host.kind === 'local' ? 'this machine' : `${host.user}@${host.address}:${host.port}`,
          host.kind === 'local' ? '-' : host.auth.type,
          host.kind === 'ssh' && host.jump ? host.jump : '-',
          host.label ?? '-',
          probed[index] ?? 'never',
        ]);
        io.stdout(formatTable(['NAME', 'ADDRESS', 'AUTH', 'JUMP', 'LABEL', 'PROBED'], rows));
      });
    });

  hosts
    .command('remove <name>')
    .description('remove a host from the workspace')
    .action(async (name: string) => {
      await withHostService(globals(), async (service) => {
        service.inventory.remove(name);
        await service.inventory.save();
        await service.facts.remove(name);
        if (globals().json) printJson(io, { removed: name });
        else io.stdout(`removed host ${name}\n`);
      });
    });

  hosts
    .command('forget-key <name>')
    .description("remove cnlab's stored host key of a host (after checking a changed key with its admin); the next check asks to trust the current one")
    .action(async (name: string) => {
      await withHostService(globals(), async (service) => {
        const removed = await service.forgetHostKey(name);
        if (globals().json) printJson(io, { host: name, removed });
        else io.stdout(removed > 0 ? `forgot ${removed} stored key(s) of host ${name}: check it again to trust its current key\n` : `cnlab had no stored key for host ${name} (keys in ~/.ssh/known_hosts are yours to edit with ssh-keygen -R)\n`);
      });
    });

  hosts
    .command('probe [name]')
    .description('probe host facts: OS, kernel features, NICs, tools, privilege')
    .option('--all', 'probe every host, in parallel')
    .action(async (name: string | undefined, options: { all?: boolean }) => {
      if (!name && !options.all) throw usage('hosts probe: name a host or give --all');
      if (name && options.all) throw usage('hosts probe: give a host name or --all, not both');
      await withHostService(globals(), async (service) => {
        const names = options.all ? service.inventory.list().map((host) => host.name) : [name as string];
        const results = await Promise.allSettled(names.map((host) => service.probe(host)));
        const failed = results.filter((result) => result.status === 'rejected').length;
        if (globals().json) {
          printJson(
            io,
            names.map((host, index) => {
              const result = results[index] as PromiseSettledResult<unknown>;
              return result.status === 'fulfilled'
                ? { host, ok: true, facts: result.value }
                : { host, ok: false, error: errorBody(result.reason) };
            }),
          );
        } else {
          results.forEach((result, index) => {
            const host = names[index] as string;
            if (result.status === 'fulfilled') io.stdout(formatFactsSummary(host, result.value));
            else io.stderr(`cnlab: ${errorBody(result.reason).message}\n`);
          });
        }
        if (failed > 0) throw new CnlabError('command-failed', `${failed} of ${names.length} host probes failed`);
      });
    });

  hosts
    .command('import-ssh-config [file]')
    .description('import hosts from an OpenSSH client config (default ~/.ssh/config)')
    .action(async (file: string | undefined) => {
      const home = process.env.HOME || homedir();
      const path = resolve(file ?? join(home, '.ssh', 'config'));
      if (!existsSync(path)) throw new CnlabError('not-found', `ssh config ${path} does not exist: name the file to import`);
      const imported = await importSshConfig(path, {
        homeDir: home,
        userName: userInfo().username,
        ...(process.env.SSH_AUTH_SOCK ? { sshAuthSock: process.env.SSH_AUTH_SOCK } : {}),
      });
      await withHostService(globals(), async (service) => {
        const added: string[] = [];
        const skipped: string[] = [];
        for (const input of imported.hosts) {
          if (service.inventory.find(input.name)) skipped.push(input.name);
          else {
            service.inventory.add(input);
            added.push(input.name);
          }
        }
        await service.inventory.save();
        const warnings = [...imported.warnings, ...skipped.map((host) => `host ${host} is already in the inventory; kept the existing entry`)];
        if (globals().json) printJson(io, { added, skipped, warnings });
        else {
          for (const warning of warnings) io.stderr(`cnlab: ${warning}\n`);
          io.stdout(added.length > 0 ? `imported ${added.join(', ')}; next: cnlab hosts probe --all\n` : 'no new hosts to import\n');
        }
      });
    });
}

function errorBody(error: unknown): { code: string; message: string } {
  return error instanceof CnlabError ? { code: error.code, message: error.message } : { code: 'internal', message: String(error) };
}
