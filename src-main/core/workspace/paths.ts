// Where cnlab keeps things on the console machine: the workspace folder (inventory, runs, caches)
// and the per-user config folder (cnlab's own known_hosts), so a first run needs no setup.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface PathEnvironment {
  env: NodeJS.ProcessEnv;
  homeDir?: string;
}

/** --workspace, then $CNLAB_WORKSPACE, then a default folder under the XDG data directory. */
export function resolveWorkspaceDir(flag: string | undefined, { env, homeDir = homedir() }: PathEnvironment): string {
  if (flag) return resolve(flag);
  if (env.CNLAB_WORKSPACE) return resolve(env.CNLAB_WORKSPACE);
  const dataHome = env.XDG_DATA_HOME || join(homeDir, '.local', 'share');
  return join(dataHome, 'cnlab', 'default.cnlab');
}

/** $CNLAB_CONFIG_DIR, then the XDG config directory. */
export function resolveConfigDir({ env, homeDir = homedir() }: PathEnvironment): string {
  if (env.CNLAB_CONFIG_DIR) return resolve(env.CNLAB_CONFIG_DIR);
  const configHome = env.XDG_CONFIG_HOME || join(homeDir, '.config');
  return join(configHome, 'cnlab');
}

/** The user's OpenSSH known_hosts files, read (never written) when verifying host keys. */
export function userKnownHostsFiles(homeDir = homedir()): string[] {
  return [join(homeDir, '.ssh', 'known_hosts'), join(homeDir, '.ssh', 'known_hosts2')];
}
