// Builds the core services a CLI command needs from the global options and the environment.
// Secrets come from ssh-agent, key files, the environment variables the inventory names, or (on a
// terminal) a prompt without echo whose answer lives in memory for this command only.
import { homedir } from 'node:os';
import { HostService } from '../core/hosts/host-service';
import { layeredSecretLookup, MemorySecretStore } from '../core/hosts/secret-store';
import { terminalSecretPrompt } from './secret-prompt';
import { resolveConfigDir, resolveWorkspaceDir } from '../core/workspace/paths';

export interface GlobalOptions {
  workspace?: string;
  json?: boolean;
}

export async function openHostService(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Promise<HostService> {
  const homeDir = env.HOME || homedir();
  return HostService.open({
    workspaceDir: resolveWorkspaceDir(options.workspace, { env, homeDir }),
    configDir: resolveConfigDir({ env, homeDir }),
    homeDir,
    secrets: layeredSecretLookup({ session: new MemorySecretStore(), env, ...optionalPrompt() }),
    ...(env.SSH_AUTH_SOCK ? { agentSocket: env.SSH_AUTH_SOCK } : {}),
    ...(env.CNLAB_CONNECT_TIMEOUT_MS ? { connectTimeoutMs: Number(env.CNLAB_CONNECT_TIMEOUT_MS) } : {}),
  });
}

function optionalPrompt() {
  const prompt = terminalSecretPrompt();
  return prompt ? { prompt } : {};
}

/** Runs a command body with a service that is always closed, so no connection keeps the CLI alive. */
export async function withHostService<T>(options: GlobalOptions, body: (service: HostService) => Promise<T>): Promise<T> {
  const service = await openHostService(options);
  try {
    return await body(service);
  } finally {
    await service.close();
  }
}
