// Command line for the lab-in-a-box testbed: `up` leaves a testbed running for people to try cnlab, `down` removes it.
// Usage: tsx tests/testbed/cli.ts up [--hosts N] | down [ID…] | hold [--hosts N] | list | sweep
import { listRunDirs, isSameProcess, readState } from '../../src-main/core/testbed/state.ts';
import {
  startTestbed,
  sweepStaleTestbeds,
  teardownDetachedTestbeds,
  TESTBED_KEY_PASSPHRASE,
  TESTBED_PASSWORD,
  type Testbed,
} from '../../src-main/core/testbed/testbed.ts';

const USAGE = `usage: tsx tests/testbed/cli.ts <command>
  up [--hosts N]     start a testbed that stays up after this command exits (default 3 hosts)
  down [ID...]       tear down testbeds started by up (all, or the given ids) and crashed leftovers
  hold [--hosts N]   start a testbed in the foreground; Ctrl-C tears it down
  list               show the testbeds on this machine
  sweep              clean testbeds of crashed runs`;

function parseHosts(args: readonly string[]): number {
  const index = args.indexOf('--hosts');
  if (index === -1) return 3;
  const value = Number(args[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error('--hosts needs a positive integer');
  return value;
}

function describe(testbed: Testbed): string {
  const hosts = testbed.hosts.map((host) => `${host.name} ${host.address}`).join(', ');
  return [
    `testbed ${testbed.id}: ${testbed.hosts.length} hosts on ${testbed.subnet} (this machine is ${testbed.runnerAddress})`,
    `  dir:         ${testbed.dir}`,
    `  ssh_config:  ${testbed.sshConfigPath}`,
    `  known_hosts: ${testbed.knownHostsPath}`,
    `  hosts:       ${hosts}`,
    `  users:       root, bob (no sudo), alice (sudo); password ${TESTBED_PASSWORD}`,
    `  keys:        ${testbed.clientKeyPath}, ${testbed.encryptedClientKeyPath} (passphrase ${TESTBED_KEY_PASSPHRASE})`,
    `  workspace:   ${testbed.workspaceDir} (a cnlab inventory of these hosts)`,
    `try:  ssh -F ${testbed.sshConfigPath} ${testbed.hosts[0]?.name ?? 'h1'}`,
    `      npx cnlab --workspace ${testbed.workspaceDir} hosts probe --all`,
  ].join('\n');
}

async function up(args: readonly string[]): Promise<void> {
  const testbed = await startTestbed({ hosts: parseHosts(args), detached: true });
  console.log(describe(testbed));
  console.log('stop: npm run testbed:down');
}

async function down(ids: readonly string[]): Promise<void> {
  const removed = await teardownDetachedTestbeds(ids);
  console.log(removed.length > 0 ? `removed testbed(s): ${removed.join(', ')}` : 'no testbed to remove');
}

/** Foreground testbed: stays until SIGINT/SIGTERM, then leaves nothing behind. */
async function hold(args: readonly string[]): Promise<void> {
  const testbed = await startTestbed({ hosts: parseHosts(args) });
  console.log(describe(testbed));
  console.log('press Ctrl-C to tear down');
  const keepAlive = setInterval(() => undefined, 60_000);
  const stop = (): void => {
    clearInterval(keepAlive);
    testbed.teardown().then(
      () => console.log(`testbed ${testbed.id} removed`),
      (error: unknown) => {
        console.error((error as Error).message);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function list(): void {
  const rows = listRunDirs().map((dir) => {
    const state = readState(dir);
    if (!state) return `${dir}: no state.json (starting, or crashed)`;
    const mode = state.detached ? 'detached (up)' : isSameProcess(state.owner) ? `owned by pid ${state.owner.pid}` : 'stale';
    return `${state.id}  ${state.subnet ?? '?'}  ${state.hosts.length} hosts  ${mode}  ${state.dir}`;
  });
  console.log(rows.length > 0 ? rows.join('\n') : 'no testbeds');
}

async function sweepCommand(): Promise<void> {
  const removed = await sweepStaleTestbeds();
  console.log(removed.length > 0 ? `swept: ${removed.join(', ')}` : 'nothing stale');
}

async function main(argv: readonly string[]): Promise<void> {
  const [command, ...args] = argv;
  switch (command) {
    case 'up':
      return up(args);
    case 'down':
      return down(args);
    case 'hold':
      return hold(args);
    case 'list':
      return list();
    case 'sweep':
      return sweepCommand();
    default:
      console.error(USAGE);
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exitCode = 1;
});
