// Injection campaign (issue 10): hostile strings — command substitution, backticks, ";", "|", "&&", "&",
// newlines, broken quotes, backslashes, ${IFS}, globs, a leading "-", NUL, look-alike unicode, path
// traversal, very long — put into every field that reaches a host: the topology file, the inventory, an
// ssh config, the experiment file, file and folder names, the CLI's arguments and options, and a run
// record brought in with a run folder. Each must be refused with a CnlabError naming the field, or taken
// literally (the object exists under the literal name, the value is harmless) while apply, verify, exec,
// runs and teardown go on. Each hostile value would create its own marker file if a shell ever ran it;
// at the end no marker exists on any testbed host nor on this machine, and nothing is left on the hosts.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli as runCliHere } from '../../src-main/cli/main';
import { CnlabError } from '../../src-main/core/errors';
import { parseExperimentText } from '../../src-main/core/experiment/experiment-schema';
import { type HostInput } from '../../src-main/core/hosts/host-model';
import { HostInventory } from '../../src-main/core/hosts/inventory';
import { importSshConfig } from '../../src-main/core/hosts/ssh-config-import';
import { startTestbed, TESTBED_KEY_PASSPHRASE, TESTBED_PASSWORD, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { LabService } from '../../src-main/core/topology/lab-service';
import { SOAK } from '../support/fault-campaign';
import { experimentLeftovers, expectNothingLeft } from '../support/lab-checks';
import { assertCliBuilt, runCli, type CliRun } from '../support/run-cli';
import { openTestService, testbedHost, type ServiceFixture } from '../support/testbed-hosts';

/** Unique per run, so a marker can only come from this run. */
const MARK = `cnlab-pwned-${randomBytes(4).toString('hex')}`;
const marker = (id: string): string => `/tmp/${MARK}-${id}`;

interface Hostile {
  id: string;
  value: string;
}

/** Every value creates its own marker if a shell runs it (the traversal one if a path is built from it). */
const HOSTILE: readonly Hostile[] = [
  { id: 'subst', value: `$(touch ${marker('subst')})` },
  { id: 'backtick', value: `\`touch ${marker('backtick')}\`` },
  { id: 'semicolon', value: `x;touch ${marker('semicolon')}` },
  { id: 'pipe', value: `x|touch ${marker('pipe')}` },
  { id: 'and', value: `x&&touch ${marker('and')}` },
  { id: 'background', value: `x&touch ${marker('background')}&` },
  { id: 'newline', value: `x\ntouch ${marker('newline')}` },
  { id: 'crlf', value: `x\r\ntouch ${marker('crlf')}` },
  { id: 'squote', value: `x';touch ${marker('squote')};'` },
  { id: 'dquote', value: `x";touch ${marker('dquote')};"` },
  { id: 'backslash', value: `x\\';touch ${marker('backslash')};#` },
  { id: 'ifs', value: `$(touch\${IFS}${marker('ifs')})` },
  { id: 'redirect', value: `>${marker('redirect')}` },
  { id: 'glob', value: '*' },
  { id: 'option', value: `-oProxyCommand=touch\${IFS}${marker('option')}` },
  { id: 'nul', value: `x\0;touch ${marker('nul')}` },
  { id: 'fullwidth', value: `x\uFF1Btouch ${marker('fullwidth')}` },
  { id: 'rtl', value: `x\u202E;touch ${marker('rtl')}` },
  { id: 'zwj', value: `x\u200D$(touch ${marker('zwj')})` },
  { id: 'traversal', value: `../../..${marker('traversal')}` },
  { id: 'long', value: `${'a'.repeat(5000)}$(touch ${marker('long')})` },
];
/** What a file name can carry (no NUL; a path component is at most 255 bytes). */
const AS_FILE_NAME = HOSTILE.filter((hostile) => hostile.id !== 'nul' && hostile.id !== 'long');
/**
 * Where each value costs an SSH login or a process of its own: one of each kind of attack in `npm test`
 * (a minute per file), every value under `npm run soak`. Everything else always takes every value.
 */
const SLOW_PATH_IDS = new Set(['subst', 'semicolon', 'newline', 'squote', 'backslash', 'option', 'nul', 'rtl', 'traversal', 'long']);
const slowPath = (hostile: Hostile): boolean => SOAK || SLOW_PATH_IDS.has(hostile.id);

let testbed: Testbed;
let scratch: string;
let fixture: ServiceFixture;
let labs: LabService;
const savedEnv = { HOME: process.env.HOME, CNLAB_CONFIG_DIR: process.env.CNLAB_CONFIG_DIR };

const cliEnv = (): { HOME: string; CNLAB_CONFIG_DIR: string } => ({ HOME: join(testbed.dir, 'home'), CNLAB_CONFIG_DIR: join(testbed.dir, 'cnlab-config') });
/** The built CLI as a user runs it, on the testbed's workspace. */
const cli = (args: string[], timeoutMs = 90_000): Promise<CliRun> => runCli(['--workspace', testbed.workspaceDir, ...args], cliEnv(), timeoutMs);

/** The same CLI code in this process (commander, the commands, core): hundreds of refusals in seconds, and NUL in arguments. */
async function cliHere(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCliHere(['--workspace', testbed.workspaceDir, ...args], { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

/**
 * A path ending in `name` (a "/" in it makes folders), with its folders made, three folders deep in its own
 * folder: the traversal value's "../../.." stays in the path as given (the kernel resolves it) and still
 * lands inside the scratch folder.
 */
function hostilePath(area: string, id: string, name: string): string {
  const base = join(scratch, area, id, 'd', 'd', 'd');
  const path = `${base}/${name}`;
  mkdirSync(base, { recursive: true });
  mkdirSync(dirname(resolve(path)), { recursive: true });
  return path;
}

function fileNamed(area: string, id: string, name: string, text: string): string {
  const file = hostilePath(area, id, name);
  writeFileSync(file, text);
  return file;
}

async function inBatches<T, R>(items: readonly T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return out;
}

/** A CnlabError's message, or a description of whatever else came out. */
async function refusal(action: () => unknown): Promise<string> {
  try {
    await action();
  } catch (error) {
    if (error instanceof CnlabError) return error.message;
    return `NOT A CnlabError: ${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`;
  }
  return 'ACCEPTED';
}

beforeAll(async () => {
  assertCliBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-inject-'));
  testbed = await startTestbed({ hosts: 2 });
  // The in-process CLI reads HOME and the config folder from the environment, as the real one does.
  Object.assign(process.env, cliEnv());
  fixture = await openTestService(['h1', 'h2'].map((name) => testbedHost(testbed, name)));
  await fixture.service.inventory.save();
  labs = new LabService(fixture.service, fixture.workspaceDir);
}, 120_000);

afterAll(async () => {
  for (const [name, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await fixture?.dispose();
  await testbed?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

// ── topology files ──────────────────────────────────────────────────────────────────────────────────

type Topology = Record<string, unknown> & { networks: Record<string, unknown>[]; containers: Record<string, unknown>[] };

const baseTopology = (name = 'inj'): Topology => ({
  v: 1,
  name,
  hosts: ['h1'],
  networks: [{ name: 'lan', mode: 'bridge' }],
  containers: [
    { name: 'a', host: 'h1', networks: ['lan'] },
    { name: 'b', host: 'h1', networks: ['lan'] },
  ],
});

/** Each field of a topology file that names or configures something on a host, with how to put a value there. */
const TOPOLOGY_FIELDS: [string, (topology: Topology, value: string) => void][] = [
  ['name', (t, v) => (t.name = v)],
  ['hosts.0', (t, v) => (t.hosts = [v])],
  ['addressPool', (t, v) => (t.addressPool = v)],
  ['networks.0.name', (t, v) => (t.networks[0] = { name: v, mode: 'bridge' })],
  ['networks.0.mode', (t, v) => (t.networks[0] = { name: 'lan', mode: v })],
  ['networks.0.subnet', (t, v) => (t.networks[0] = { name: 'lan', mode: 'bridge', subnet: v })],
  ['networks.0.options.parent', (t, v) => (t.networks[0] = { name: 'lan', mode: 'macvlan', options: { parent: v } })],
  ['networks.0.options.mtu', (t, v) => (t.networks[0] = { name: 'lan', mode: 'bridge', options: { mtu: v } })],
  ['networks.0.options.publish.0', (t, v) => (t.networks[0] = { name: 'lan', mode: 'nat', options: { publish: [v] } })],
  ['networks.0.shaping.rate', (t, v) => (t.networks[0] = { name: 'lan', mode: 'bridge', shaping: { rate: v } })],
  ['networks.0.shaping.delay', (t, v) => (t.networks[0] = { name: 'lan', mode: 'bridge', shaping: { delay: v } })],
  ['containers.0.name', (t, v) => (t.containers[0] = { name: v, host: 'h1', networks: ['lan'] })],
  ['containers.0.host', (t, v) => (t.containers[0] = { name: 'a', host: v, networks: ['lan'] })],
  ['containers.0.networks.0', (t, v) => (t.containers[0] = { name: 'a', host: 'h1', networks: [v] })],
  ['containers.0.cpuset', (t, v) => (t.containers[0] = { name: 'a', host: 'h1', networks: ['lan'], cpuset: v })],
  ['containers.0.addresses', (t, v) => (t.containers[0] = { name: 'a', host: 'h1', networks: ['lan'], addresses: { [v]: '198.19.0.9' } })],
  ['containers.1.shareNetnsWith', (t, v) => (t.containers[1] = { name: 'b', host: 'h1', shareNetnsWith: v })],
  ['docker.image', (t, v) => Object.assign(t, { runtime: 'docker', docker: { image: v } })],
  ['underlayShaping.0.nic', (t, v) => (t.underlayShaping = [{ host: 'h1', nic: v, rate: '1gbit' }])],
  ['underlayShaping.0.host', (t, v) => (t.underlayShaping = [{ host: v, rate: '1gbit' }])],
];

describe('topology files', () => {
  it(`refuses every hostile value in each of ${TOPOLOGY_FIELDS.length} fields, naming the field`, async () => {
    const wrong: string[] = [];
    for (const [field, put] of TOPOLOGY_FIELDS) {
      for (const hostile of HOSTILE) {
        const topology = baseTopology();
        put(topology, hostile.value);
        const file = join(scratch, 'topology-fields', `${field}-${hostile.id}.yaml`);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, stringify(topology));
        const message = await refusal(async () => labs.plan(await labs.readTopology(file)));
        if (!message.startsWith(`${file}: ${field}`)) wrong.push(`${field} = ${hostile.id}: ${message.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('takes hostile diagram layout keys literally, at a hostile file path: applied, verified, exec refuses hostile containers and quotes hostile arguments, torn down', async () => {
    const topology = baseTopology('inj');
    const keys = HOSTILE.filter((hostile) => hostile.value.length <= 120).map((hostile) => hostile.value);
    topology.layout = Object.fromEntries(keys.map((key, index) => [key, [index, index]]));
    const file = fileNamed('layout', 'subst', `${HOSTILE[0]?.value ?? ''};${HOSTILE[2]?.value ?? ''}.yaml`, stringify(topology));
    const applied = await cli(['--json', 'topology', 'apply', file]);
    expect(applied.stderr).not.toMatch(/\n\s+at /);
    expect(applied.code).toBe(0);
    expect(Object.keys((JSON.parse(applied.stdout) as { topology: { layout: Record<string, unknown> } }).topology.layout).sort()).toEqual([...keys].sort());
    try {
      const verified = await cli(['--json', 'topology', 'verify', 'inj']);
      expect(verified.code).toBe(0);
      expect((JSON.parse(verified.stdout) as { failed: number }).failed).toBe(0);
      // A hostile container name is looked up, never run; a hostile argument is one literal argv element.
      for (const hostile of HOSTILE) {
        const missing = await cliHere(['exec', 'inj', '--', hostile.value, 'true']);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain('lab inj has no container');
      }
      const echoed = await inBatches(
        HOSTILE.filter((hostile) => hostile.id !== 'nul'),
        4,
        async (hostile) => ({ hostile, run: await cliHere(['exec', 'inj', 'a', '--', 'printf', '%s', hostile.value]) }),
      );
      for (const { hostile, run } of echoed) expect({ id: hostile.id, code: run.code, out: run.stdout }).toEqual({ id: hostile.id, code: 0, out: `${hostile.value}\n` });
      const nul = await cliHere(['exec', 'inj', 'a', '--', 'printf', '%s', HOSTILE.find((hostile) => hostile.id === 'nul')?.value ?? '']);
      expect(nul.code).toBe(1);
      expect(nul.stderr).toMatch(/^cnlab: a shell argument contains a NUL byte .*: remove it\n$/);
    } finally {
      const teardown = await cli(['topology', 'teardown', 'inj']);
      expect(teardown.code).toBe(0);
    }
    expect(await expectNothingLeft(testbed, 'inj')).toEqual([]);
  });

  it('reads topology files under hostile names literally', async () => {
    const files = AS_FILE_NAME.map((hostile) => ({ hostile, file: fileNamed('topology-names', hostile.id, `${hostile.value}.yaml`, stringify(baseTopology('named'))) }));
    // The CLI's code in this process for every name, the built CLI as its own process for some.
    const runs = await inBatches(files, 4, async ({ hostile, file }) => ({ file, run: slowPath(hostile) && hostile.id !== 'long' ? await cli(['topology', 'validate', file]) : await cliHere(['topology', 'validate', file]) }));
    for (const { file, run } of runs) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout.startsWith(`${file}: valid — lab named, 2 containers`), run.stdout).toBe(true);
    }
  });
});

describe('workspace folders', () => {
  it('copies the workspace into hostile folder names and works there: info, a probe of a host, its facts saved under the literal name', async () => {
    for (const hostile of AS_FILE_NAME) {
      const dir = hostilePath('workspaces', hostile.id, hostile.value);
      const copied = await cliHere(['--json', 'workspace', 'save-as', dir]);
      expect(copied.code, `${hostile.id}: ${copied.stderr}`).toBe(0);
      expect((JSON.parse(copied.stdout) as { dir: string }).dir).toBe(resolve(dir));
      const info = await cliHere(['--workspace', dir, '--json', 'workspace', 'info']);
      expect(info.code, info.stderr).toBe(0);
      expect(JSON.parse(info.stdout)).toMatchObject({ dir: resolve(dir), hosts: ['h1', 'h2'] });
      if (!slowPath(hostile)) continue;
      const probed = await cliHere(['--workspace', dir, 'hosts', 'probe', 'h1']);
      expect(probed.code, probed.stderr).toBe(0);
      expect(existsSync(join(resolve(dir), 'cache', 'facts', 'h1.json'))).toBe(true);
    }
  });
});

// ── the inventory and ssh configs ───────────────────────────────────────────────────────────────────

/** A testbed host entry with one field replaced. */
function hostWith(name: string, field: string, value: string): Record<string, unknown> {
  const host = testbedHost(testbed, 'h1') as Record<string, unknown> & { auth: Record<string, unknown> };
  const entry: Record<string, unknown> = { ...host, name };
  switch (field) {
    case 'keyFile':
      entry.auth = { type: 'key', keyFile: value };
      break;
    case 'passphraseEnv':
      entry.auth = { type: 'key', keyFile: testbed.encryptedClientKeyPath, passphraseEnv: value };
      break;
    case 'passwordEnv':
      entry.auth = { type: 'password', passwordEnv: value };
      break;
    case 'knownHostsFiles':
      entry.knownHostsFiles = [value];
      break;
    case 'jump':
      entry.jump = value;
      break;
    default:
      entry[field] = value;
  }
  return entry;
}

/** Fields whose values are names of things (refused unless plain) and fields that are free text or paths (taken literally). */
const HOST_NAME_FIELDS = ['name', 'address', 'user', 'jump', 'port', 'label'];
const HOST_LITERAL_FIELDS = ['keyFile', 'passphraseEnv', 'passwordEnv', 'knownHostsFiles', 'notes'];

describe('the inventory', () => {
  it('refuses hostile host names, users, jump hosts, ports and labels naming the field; an address it takes cannot connect', async () => {
    const wrong: string[] = [];
    const acceptedAddresses: string[] = [];
    for (const field of HOST_NAME_FIELDS) {
      for (const hostile of HOSTILE) {
        const name = field === 'name' ? hostile.value : `bad-${field}-${hostile.id}`;
        const message = await refusal(() => fixture.service.inventory.add(hostWith(name, field, hostile.value) as HostInput));
        if (message === 'ACCEPTED' && field === 'address') acceptedAddresses.push(name);
        else if (!message.startsWith(`host ${name}: `) || !message.includes(`: ${field}: `)) wrong.push(`${field} = ${hostile.id}: ${message.slice(0, 160)}`);
      }
    }
    expect(wrong).toEqual([]);
    // What the address pattern lets through is no shell word: the connection attempt fails by name lookup.
    for (const name of acceptedAddresses) {
      const message = await refusal(() => fixture.service.checkConnection(name));
      expect(message, name).not.toMatch(/^(ACCEPTED|NOT A CnlabError)/);
      fixture.service.inventory.remove(name);
    }
  });

  it('takes hostile key files, known_hosts files, secret variable names and notes literally, and connects with them', async () => {
    const env: Record<string, string> = {};
    const entries: { name: string; field: string; hostile: Hostile; expectRefused: boolean; unusable: boolean }[] = [];
    const service = await openTestService([], env);
    try {
      for (const field of HOST_LITERAL_FIELDS) {
        for (const [index, hostile] of HOSTILE.entries()) {
          const name = `ok-${field}-${index}`;
          let value = hostile.value;
          if (field === 'keyFile' || field === 'knownHostsFiles') {
            // A real copy of the key (or known_hosts) under the hostile name; NUL and 255+ byte names cannot exist.
            if (hostile.id === 'nul' || hostile.id === 'long') value = `${scratch}/${hostile.value}`;
            else value = fileNamed(field, hostile.id, hostile.value, readFileSync(field === 'keyFile' ? testbed.clientKeyPath : testbed.knownHostsPath, 'utf8'));
          }
          if (field === 'passphraseEnv') env[value] = TESTBED_KEY_PASSPHRASE;
          // Each field its own variable: the same hostile name must not hold both secrets.
          if (field === 'passwordEnv') value = `${value}#password`;
          if (field === 'passwordEnv') env[value] = TESTBED_PASSWORD;
          const refused = await refusal(() => service.service.inventory.add(hostWith(name, field, value) as HostInput));
          // Only what no file or message can hold is refused: notes over 2000 characters.
          const expectRefused = field === 'notes' && hostile.id === 'long';
          if (expectRefused) expect(refused, `${field} = ${hostile.id}`).toMatch(new RegExp(`^host ${name}: notes: `));
          else expect(refused, `${field} = ${hostile.id}`).toBe('ACCEPTED');
          entries.push({ name, field, hostile, expectRefused, unusable: (field === 'keyFile' || field === 'knownHostsFiles') && (hostile.id === 'nul' || hostile.id === 'long') });
        }
      }
      await service.service.inventory.save();
      // Saved and read back: every value exactly as given.
      const reloaded = await HostInventory.load(service.workspaceDir);
      for (const entry of entries.filter((item) => !item.expectRefused && item.field !== 'keyFile' && item.field !== 'knownHostsFiles')) {
        expect(JSON.stringify(reloaded.get(entry.name)).includes(JSON.stringify(entry.hostile.value).slice(1, -1)), `${entry.field} = ${entry.hostile.id}`).toBe(true);
      }
      // Notes never leave the inventory; every other field is used to log in.
      const checks = await inBatches(
        entries.filter((entry) => !entry.expectRefused && entry.field !== 'notes' && slowPath(entry.hostile)),
        6,
        async (entry) => ({ entry, outcome: await refusal(() => service.service.checkConnection(entry.name)) }),
      );
      // A path no file can have (NUL, a 5000-byte name) fails as a CnlabError that names it; all others connect.
      const wrong = checks.filter((check) => (check.entry.unusable ? /^(ACCEPTED|NOT A CnlabError)/.test(check.outcome) : check.outcome !== 'ACCEPTED'));
      expect(wrong.map((check) => `${check.entry.field} = ${check.entry.hostile.id}: ${check.outcome.slice(0, 200)}`)).toEqual([]);
    } finally {
      // The env record is the secret lookup's: the variables named literally, nothing else.
      await service.dispose();
    }
  });

  it('refuses hostile values given to `cnlab hosts add`, and keeps the ones it takes literally', async () => {
    const base = ['hosts', 'add', '--no-check', '--address=198.18.0.9'];
    const agent = [...base, '--agent'];
    const wrong: string[] = [];
    for (const [index, hostile] of HOSTILE.entries()) {
      const attempts: [string, string[], RegExp][] = [
        ['name', [...agent, '--', hostile.value], /^cnlab: host .*: name: a host name has/s],
        ['--user', [...agent, `--user=${hostile.value}`, `u${index}`], /^cnlab: host u\d+: user: a user name has/],
        ['--port', [...agent, `--port=${hostile.value}`, `p${index}`], /^cnlab: --port .* is not a port number/s],
        ['--jump', [...agent, `--jump=${hostile.value}`, `j${index}`], /^cnlab: host j\d+: jump: a host name has/],
        ['--label', [...agent, `--label=${hostile.value}`, `l${index}`], /^cnlab: --label is bare-metal or vm/],
      ];
      for (const [what, args, expected] of attempts) {
        const run = await cliHere(args);
        if (run.code === 0 || !expected.test(run.stderr)) wrong.push(`${what} = ${hostile.id}: exit ${run.code}: ${run.stderr.slice(0, 160)}`);
      }
      // Free text, paths and variable names are kept as given (a key path is made absolute).
      const noted = await cliHere([...base, `--notes=${hostile.value}`, `--key=/keys/${hostile.value}`, `n${index}`]);
      if (hostile.id === 'long') expect(noted.stderr).toMatch(/^cnlab: host n\d+: notes: /);
      else expect(noted.code, noted.stderr).toBe(0);
      const named = await cliHere([...base, `--password-env=${hostile.value}`, `e${index}`]);
      expect(named.code, named.stderr).toBe(0);
    }
    expect(wrong).toEqual([]);
    const listed = JSON.parse((await cliHere(['--json', 'hosts', 'list'])).stdout) as { name: string; notes?: string; auth: { keyFile?: string; passwordEnv?: string } }[];
    for (const [index, hostile] of HOSTILE.entries()) {
      const password = listed.find((entry) => entry.name === `e${index}`);
      expect(password?.auth.passwordEnv).toBe(hostile.value);
      expect((await cliHere(['hosts', 'remove', `e${index}`])).code).toBe(0);
      if (hostile.id === 'long') continue;
      const host = listed.find((entry) => entry.name === `n${index}`);
      expect({ notes: host?.notes, keyFile: host?.auth.keyFile }).toEqual({ notes: hostile.value, keyFile: join('/keys', hostile.value) });
      expect((await cliHere(['hosts', 'remove', `n${index}`])).code).toBe(0);
    }
  });

  it('imports an ssh config without running its commands and with hostile values refused or literal', async () => {
    const home = join(scratch, 'ssh-home');
    const importEnv = { homeDir: home, userName: userInfo().username };
    // One config per hostile value and field, through the importer the CLI uses.
    const wrong: string[] = [];
    for (const hostile of AS_FILE_NAME.filter((item) => !/[\r\n]/.test(item.value))) {
      const quoted = `"${hostile.value.replace(/"/g, '')}"`;
      const config = [
        `Host alias-${hostile.id}`,
        `  HostName ${quoted}`,
        `Host user-${hostile.id}`,
        '  HostName 198.18.0.9',
        `  User ${quoted}`,
        `Host port-${hostile.id}`,
        '  HostName 198.18.0.9',
        `  Port ${quoted}`,
        `Host jump-${hostile.id}`,
        '  HostName 198.18.0.9',
        `  ProxyJump ${quoted}`,
        `Host ${quoted}`,
        '  HostName 198.18.0.9',
        '',
      ].join('\n');
      const file = fileNamed('ssh-configs', hostile.id, hostile.value, config);
      let imported: Awaited<ReturnType<typeof importSshConfig>>;
      try {
        imported = await importSshConfig(file, importEnv);
      } catch (error) {
        if (!(error instanceof CnlabError)) wrong.push(`${hostile.id}: ${String(error)}`);
        continue;
      }
      for (const host of imported.hosts) {
        const text = JSON.stringify(host);
        if (host.kind !== 'ssh' || text.includes('touch')) wrong.push(`${hostile.id}: imported ${text.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);

    // One config with every command OpenSSH could run, and a host whose key path is hostile: only that
    // host comes in, with the literal path, and it connects.
    const h1 = testbed.host('h1');
    const key = fileNamed('ssh-key', 'subst', `${HOSTILE[0]?.value ?? ''}key`, readFileSync(testbed.clientKeyPath, 'utf8'));
    const config = [
      'Host good',
      `  HostName ${h1.address}`,
      `  Port ${h1.port}`,
      '  User root',
      `  IdentityFile "${key}"`,
      `  UserKnownHostsFile ${testbed.knownHostsPath}`,
      'Host proxied',
      '  HostName 198.18.0.9',
      `  ProxyCommand touch ${marker('proxycommand')}`,
      'Host local-command',
      '  HostName 198.18.0.9',
      '  PermitLocalCommand yes',
      `  LocalCommand touch ${marker('localcommand')}`,
      `  KnownHostsCommand /usr/bin/touch ${marker('knownhostscommand')}`,
      `Match exec "touch ${marker('matchexec')}"`,
      '  User nobody',
      `Include ${join(scratch, 'no-such', HOSTILE[0]?.value ?? '')}`,
      '',
    ].join('\n');
    const file = fileNamed('ssh-config-all', 'subst', `${HOSTILE[0]?.value ?? ''}config`, config);
    const run = await cli(['--json', 'hosts', 'import-ssh-config', file]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { added: string[]; warnings: string[] };
    expect(result.added).toEqual(['good', 'local-command']);
    expect(result.warnings.join('\n')).toContain('ProxyCommand is not supported; skipped');
    expect(result.warnings.join('\n')).toContain('Match exec was not run');
    const listed = JSON.parse((await cliHere(['--json', 'hosts', 'list'])).stdout) as { name: string; auth: { keyFile?: string } }[];
    expect(listed.find((host) => host.name === 'good')?.auth.keyFile).toBe(key);
    const check = await cliHere(['hosts', 'check', 'good']);
    expect(check.code, check.stderr).toBe(0);
    for (const name of result.added) expect((await cliHere(['hosts', 'remove', name])).code).toBe(0);
  });
});

// ── experiments ─────────────────────────────────────────────────────────────────────────────────────

const baseExperiment = (): Record<string, unknown> & { modes: unknown[]; workload: Record<string, unknown> } => ({
  v: 1,
  kind: 'experiment',
  name: 'inj-run',
  hosts: ['h1', 'h2'],
  placement: { server: 'h1', client: 'h2' },
  modes: ['baseline', { mode: 'nat', placement: { server: 'h1', client: 'h1' }, options: { publish: [5201] } }],
  workload: { tool: 'ping', count: 2, interval: 0.2 },
  repetitions: 1,
  warmup: 0,
  cooldown: 0,
  sampleHosts: false,
});

type Experiment = ReturnType<typeof baseExperiment>;
const EXPERIMENT_FIELDS: [string, (experiment: Experiment, value: string) => void][] = [
  ['name', (e, v) => (e.name = v)],
  ['hosts.0', (e, v) => (e.hosts = [v, 'h2'])],
  ['placement.server', (e, v) => (e.placement = { server: v, client: 'h2' })],
  ['addressPool', (e, v) => (e.addressPool = v)],
  ['backend', (e, v) => (e.backend = v)],
  ['runtime', (e, v) => (e.runtime = v)],
  ['docker.image', (e, v) => (e.docker = { image: v })],
  ['modes.0.mode', (e, v) => (e.modes = [v])],
  ['modes.0.label', (e, v) => (e.modes = [{ mode: 'bridge', label: v, placement: { server: 'h1', client: 'h1' } }])],
  ['modes.0.options.parent', (e, v) => (e.modes = [{ mode: 'macvlan', options: { parent: v } }])],
  ['modes.0.options.mtu', (e, v) => (e.modes = [{ mode: 'vxlan', options: { mtu: v } }])],
  ['modes.0.options.publish.0', (e, v) => (e.modes = [{ mode: 'nat', placement: { server: 'h1', client: 'h1' }, options: { publish: [v] } }])],
  ['modes.0.placement.client', (e, v) => (e.modes = [{ mode: 'bridge', placement: { server: 'h1', client: v } }])],
  ['workload.tool', (e, v) => (e.workload = { tool: v })],
  ['workload.blockSize', (e, v) => (e.workload = { tool: 'iperf3', blockSize: v })],
  ['workload.bitrate', (e, v) => (e.workload = { tool: 'iperf3', protocol: 'udp', bitrate: v })],
  ['workload.test', (e, v) => (e.workload = { tool: 'netperf', test: v })],
  ['axes.blockSize.0', (e, v) => Object.assign(e, { workload: { tool: 'iperf3' }, axes: { blockSize: [v] } })],
  ['axes', (e, v) => Object.assign(e, { workload: { tool: 'iperf3' }, axes: { [v]: [1] } })],
  ['baseline', (e, v) => (e.baseline = v)],
  ['study.id', (e, v) => (e.study = { id: v, part: 'a' })],
];

describe('experiment files', () => {
  it(`refuses every hostile value in each of ${EXPERIMENT_FIELDS.length} fields, naming the field`, () => {
    const wrong: string[] = [];
    for (const [field, put] of EXPERIMENT_FIELDS) {
      for (const hostile of HOSTILE) {
        const experiment = baseExperiment();
        put(experiment, hostile.value);
        let message = 'ACCEPTED';
        try {
          parseExperimentText(stringify(experiment), 'exp.yaml');
        } catch (error) {
          message = error instanceof CnlabError ? error.message : `NOT A CnlabError: ${String(error)}`;
        }
        if (!message.startsWith(`exp.yaml: ${field}`)) wrong.push(`${field} = ${hostile.id}: ${message.slice(0, 200)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  let runId = '';

  it('runs an experiment with a hostile description from a hostile path, and writes its bundle and report under hostile names', async () => {
    const experiment = baseExperiment();
    const description = HOSTILE.filter((hostile) => hostile.id !== 'long').map((hostile) => hostile.value).join(' | ');
    experiment.description = description;
    const file = fileNamed('experiments', 'subst', `${HOSTILE[0]?.value ?? ''}.yaml`, stringify(experiment));
    const run = await cli(['--json', 'run', file], 120_000);
    expect(run.code, run.stderr).toBe(0);
    const outcome = JSON.parse(run.stdout) as { runId: string; state: string; cells: { case: string; runs: number; failures: unknown[] }[] };
    expect(outcome.state).toBe('completed');
    expect(outcome.cells.map((cell) => [cell.case, cell.runs, cell.failures.length])).toEqual([
      ['baseline', 1, 0],
      ['nat', 1, 0],
    ]);
    runId = outcome.runId;
    const record = JSON.parse(readFileSync(join(testbed.workspaceDir, 'runs', runId, 'run.json'), 'utf8')) as { experiment: { description: string }; experimentFile: string };
    expect(record.experiment.description).toBe(description);
    expect(record.experimentFile).toBe(file);

    for (const hostile of AS_FILE_NAME) {
      const bundle = hostilePath('bundles', hostile.id, `${hostile.value}.tar.gz`);
      const exported = await cliHere(['bundle', 'export', runId, '-o', bundle]);
      expect(exported.code, exported.stderr).toBe(0);
      expect(existsSync(bundle)).toBe(true);
      expect((await cliHere(['bundle', 'verify', bundle])).code).toBe(0);
      const imported = await cliHere(['--json', 'bundle', 'import', bundle]);
      expect(imported.code, imported.stderr).toBe(0);
      // The import folder's name is made of the file name's safe characters only.
      expect((JSON.parse(imported.stdout) as { folder: string }).folder).toMatch(/\/imports\/[A-Za-z0-9._-]+$/);
      const report = hostilePath('reports', hostile.id, `${hostile.value}.html`);
      expect((await cliHere(['report', runId, '-o', report])).code).toBe(0);
      expect(readFileSync(report, 'utf8')).toContain('<html');
    }
    expect(await experimentLeftovers(testbed)).toEqual([]);
  });

  it('refuses a run folder or a bundle whose record carries hostile network options before they reach a host', async () => {
    expect(runId).not.toBe('');
    const copy = `${runId}-hostile`;
    const folder = join(testbed.workspaceDir, 'runs', copy);
    cpSync(join(testbed.workspaceDir, 'runs', runId), folder, { recursive: true });
    const record = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8')) as { runId: string; state: string; experiment: { modes: { mode: string; network: { options: Record<string, unknown> } | null }[] } };
    record.runId = copy;
    record.state = 'failed';
    const nat = record.experiment.modes.find((entry) => entry.mode === 'nat');
    if (!nat?.network) throw new Error('the run has no nat case');
    // Values the schema never lets into a file: text for nft's ruleset where numbers belong.
    nat.network.options.publish = [`5201;touch ${marker('record-publish')}`];
    nat.network.options.hostPortBase = `20000 } } $(touch ${marker('record-port')})`;
    writeFileSync(join(folder, 'run.json'), JSON.stringify(record));
    writeFileSync(join(folder, 'samples.jsonl'), '');
    const resumed = await cli(['--json', 'runs', 'resume', copy], 120_000);
    expect(resumed.stderr).not.toMatch(/\n\s+at /);
    const shown = JSON.parse((await cli(['--json', 'runs', 'show', copy])).stdout) as { cells: { case: string; runs: number; failures: { message?: string }[] }[] };
    expect(shown.cells.map((cell) => [cell.case, cell.runs, cell.failures.length])).toEqual([
      ['baseline', 1, 0],
      ['nat', 0, 1],
    ]);
    const samples = readFileSync(join(folder, 'samples.jsonl'), 'utf8');
    expect(samples).toMatch(/networks\.0\.options\.publish\.0/);

    // The same record in a bundle from elsewhere, measured again with `bundle rerun`: refused alike.
    const bundle = hostilePath('bundles', 'record', 'hostile-run.tar.gz');
    expect((await cliHere(['bundle', 'export', copy, '-o', bundle])).code).toBe(0);
    const rerun = await cliHere(['--json', 'bundle', 'rerun', bundle, '--map', 'h1=h1,h2=h2', '--no-preflight']);
    expect(rerun.stderr).not.toMatch(/\n\s+at /);
    const rerunId = (JSON.parse(rerun.stdout) as { runId: string }).runId;
    expect(readFileSync(join(testbed.workspaceDir, 'runs', rerunId, 'samples.jsonl'), 'utf8')).toMatch(/networks\.0\.options\.publish\.0/);
    expect(await experimentLeftovers(testbed)).toEqual([]);
  });
});

// ── arguments and options of the CLI ────────────────────────────────────────────────────────────────

describe('CLI arguments naming labs, hosts, runs, studies and files', () => {
  it('refuses each hostile value with a CnlabError naming it, before anything reaches a host', async () => {
    const experimentFile = fileNamed('plain', 'experiment', 'exp.yaml', stringify(baseExperiment()));
    const commands: [string, (value: string) => string[], RegExp][] = [
      ['topology teardown', (v) => ['topology', 'teardown', '--', v], /is not a lab name/],
      ['topology verify', (v) => ['topology', 'verify', '--', v], /is not a lab name/],
      ['topology status', (v) => ['topology', 'status', '--', v], /is not a lab name/],
      ['topology check', (v) => ['topology', 'check', '--', v], /is not a lab name/],
      ['exec (lab)', (v) => ['exec', '--', v, 'a', 'true'], /is not a lab name/],
      ['sweep --host', (v) => ['sweep', `--host=${v}`], /is not in the inventory/],
      ['hosts check', (v) => ['hosts', 'check', '--', v], /is not in the inventory/],
      ['hosts probe', (v) => ['hosts', 'probe', '--', v], /is not in the inventory/],
      ['hosts remove', (v) => ['hosts', 'remove', '--', v], /is not in the inventory/],
      ['hosts forget-key', (v) => ['hosts', 'forget-key', '--', v], /is not in the inventory/],
      ['runs show', (v) => ['runs', 'show', '--', v], /is not a run id/],
      ['runs resume', (v) => ['runs', 'resume', '--', v], /is not a run id/],
      ['studies show', (v) => ['studies', 'show', '--', v], /no study template|cannot read study template/],
      ['run --map', (v) => ['run', '--plan', `--map=h1=${v}`, experimentFile], /--map takes name=host pairs|not in the inventory/],
      ['topology validate (file)', (v) => ['topology', 'validate', '--', v], /cannot read topology file/],
      ['run (file)', (v) => ['run', '--plan', '--', v], /cannot read (experiment file|study template)|no study template/],
      ['bundle verify (file)', (v) => ['bundle', 'verify', '--', v], /cannot read bundle/],
      ['hosts import-ssh-config (file)', (v) => ['hosts', 'import-ssh-config', '--', v], /ssh config .* does not exist/s],
      ['serve --listen', (v) => ['serve', `--listen=${v}`], /--listen .* is not an IP address/s],
      ['serve --port', (v) => ['serve', `--port=${v}`], /--port .* is not a port number/s],
      ['serve --renderer-dir', (v) => ['serve', `--renderer-dir=${v}`], /no built console in/],
    ];
    const wrong: string[] = [];
    for (const [what, args, expected] of commands) {
      for (const hostile of HOSTILE) {
        const run = await cliHere(args(hostile.value));
        if (run.code === 0 || !run.stderr.startsWith('cnlab: ') || !expected.test(run.stderr) || /\n\s+at /.test(run.stderr)) {
          wrong.push(`${what} ${hostile.id}: exit ${run.code}: ${run.stderr.slice(0, 200)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('takes a hostile value after no "--" as an unknown option (option injection is a usage error)', async () => {
    const option = HOSTILE.find((hostile) => hostile.id === 'option')?.value ?? '';
    for (const args of [['topology', 'teardown', option], ['hosts', 'check', option], ['runs', 'show', option]]) {
      const run = await cliHere(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`error: unknown option '${option}'`);
    }
  });

  it('refuses a lab name that climbs out of /run/cnlab: no ledger outside it is undone and no folder removed', async () => {
    // A folder on each host that looks like a lab's ledger folder, whose ledger would run a command on undo.
    const victim = `/tmp/cnlab-victim-${MARK.slice(-8)}`;
    for (const host of testbed.hosts) {
      const made = await testbed.hostExec(host.name, ['sh', '-c', `mkdir -p ${victim} && printf 'file\\t%s\\t%s\\n' x 'touch ${marker('ledger')}' > ${victim}/ledger`]);
      expect(made.code).toBe(0);
    }
    const run = await cli(['topology', 'teardown', `../..${victim}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`cnlab: ${JSON.stringify(`../..${victim}`)} is not a lab name: a lab is named by its topology's name (1-31 lower-case letters, digits or "-", starting with a letter)\n`);
    for (const host of testbed.hosts) {
      expect((await testbed.hostExec(host.name, ['test', '-f', `${victim}/ledger`])).code, host.name).toBe(0);
      await testbed.hostExec(host.name, ['rm', '-rf', victim]);
    }
  });
});

// ── what must not exist ─────────────────────────────────────────────────────────────────────────────

describe('after the campaign', () => {
  it('no marker file exists on any testbed host nor on this machine, and nothing is left on the hosts', async () => {
    const places = ['/tmp', '/root', '/'];
    for (const host of testbed.hosts) {
      const listed = await testbed.hostExec(host.name, ['sh', '-c', `ls -d ${places.map((place) => `${place.replace(/\/$/, '')}/${MARK}*`).join(' ')} 2>/dev/null; true`]);
      expect(listed.stdout.trim(), host.name).toBe('');
    }
    const here = ['/tmp', '/', '/root', process.cwd(), homedir(), join(testbed.dir, 'home')].flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((name) => name.startsWith(MARK)).map((name) => join(dir, name)) : []));
    expect(here).toEqual([]);
    expect(await experimentLeftovers(testbed)).toEqual([]);
    for (const lab of ['inj', 'named']) expect(await expectNothingLeft(testbed, lab)).toEqual([]);
  });
});
