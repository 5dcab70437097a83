// The error for a host without netperf: Debian ships it only in the non-free component, so the fix has to
// say more than "apt-get install", and iperf3/sockperf are offered because they are in main.

import { CnlabError } from '../../errors';

const COMMAND_NOT_FOUND_EXIT = 127;

export function netperfMissingError(host: string): CnlabError {
  return new CnlabError(
    'not-found',
    `netperf is not installed on host ${host}: install it (Debian: enable the non-free component in the apt sources, ` +
      `then apt-get install netperf) or choose iperf3/sockperf`,
    { host, tool: 'netperf', debianPackage: 'netperf', debianComponent: 'non-free' },
  );
}

/** True when a netperf invocation failed because the binary is absent, not because the test failed. */
export function looksLikeNetperfMissing(exitCode: number, stderr: string): boolean {
  return exitCode === COMMAND_NOT_FOUND_EXIT || /netperf: (command )?not found|No such file or directory/.test(stderr);
}
