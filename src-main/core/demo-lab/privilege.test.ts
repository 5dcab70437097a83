// Who may start the demo lab: root yes, passwordless sudo yes (through sudo), anyone else no, with the reason.
import { describe, expect, it } from 'vitest';
import { decideAccess, NO_PRIVILEGE_REASON, type PrivilegeProbe } from './privilege';

function probe(root: boolean, sudo: boolean, platform: NodeJS.Platform = 'linux'): PrivilegeProbe & { sudoAsked: number } {
  const result = {
    platform,
    sudoAsked: 0,
    isRoot: () => root,
    passwordlessSudo: () => {
      result.sudoAsked += 1;
      return Promise.resolve(sudo);
    },
  };
  return result;
}

describe('demo lab access', () => {
  it('is available to root without asking sudo', async () => {
    const asRoot = probe(true, false);
    expect(await decideAccess(asRoot)).toEqual({ available: true, via: 'root' });
    expect(asRoot.sudoAsked).toBe(0);
  });

  it('goes through sudo when sudo needs no password', async () => {
    expect(await decideAccess(probe(false, true))).toEqual({ available: true, via: 'sudo' });
  });

  it('is refused with the way out when neither root nor passwordless sudo', async () => {
    const access = await decideAccess(probe(false, false));
    expect(access).toEqual({ available: false, reason: NO_PRIVILEGE_REASON });
    expect(NO_PRIVILEGE_REASON).toContain('start the console with sudo');
  });

  it('is refused off Linux, naming the platform', async () => {
    const access = await decideAccess(probe(true, true, 'darwin'));
    expect(access.available).toBe(false);
    expect(access.available ? '' : access.reason).toContain('darwin');
  });
});
