// Whether this process may start the demo lab: root, passwordless sudo, or neither (with the reason).
// The decision is a pure function of a probe, so every case is unit-tested without being root.
import { spawn } from 'node:child_process';

export interface PrivilegeProbe {
  platform: NodeJS.Platform;
  isRoot(): boolean;
  /** `sudo -n true` succeeds: sudo runs without asking for a password. */
  passwordlessSudo(): Promise<boolean>;
}

export type DemoLabAccess = { available: true; via: 'root' | 'sudo' } | { available: false; reason: string };

export const NO_PRIVILEGE_REASON =
  'the demo lab needs root (it creates network namespaces and runs sshd): start the console with sudo, ' +
  'allow passwordless sudo for this user, or run `sudo npm run testbed:up` and add its hosts yourself';

export async function decideAccess(probe: PrivilegeProbe): Promise<DemoLabAccess> {
  if (probe.platform !== 'linux') {
    return { available: false, reason: `the demo lab needs Linux network namespaces; this machine runs ${probe.platform}` };
  }
  if (probe.isRoot()) return { available: true, via: 'root' };
  if (await probe.passwordlessSudo()) return { available: true, via: 'sudo' };
  return { available: false, reason: NO_PRIVILEGE_REASON };
}

/** Exit status 0 of `sudo -n true` within a few seconds; a missing sudo is simply "no". */
function sudoWithoutPassword(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sudo', ['-n', 'true'], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.on('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

export const processPrivilege: PrivilegeProbe = {
  platform: process.platform,
  isRoot: () => process.getuid?.() === 0,
  passwordlessSudo: sudoWithoutPassword,
};
