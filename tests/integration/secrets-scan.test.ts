// Secrets never go into a file cnlab writes: the testbed's password user (root) and its passphrase-protected
// key are given to the console backend through setHostSecret (one remembered in an EncryptedFileSecretStore
// over a real AES-GCM cipher, one for the session), then cnlab connects, trusts, probes, saves, applies and
// tears down a lab, reopens, and the CLI works on the same workspace. Then every file under the test's
// folders (workspace, config dir, HOME) is scanned, binary-safe, for the password and the passphrase in
// plain, UTF-16, hex and base64 forms (and inside gzip data): none may appear. Answers, events and the
// command journal are checked the same way.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoLabController } from '../../src-main/api/demo-area';
import { openLabConsole, type LabConsole } from '../../src-main/api/lab-console';
import type { LabApiEnvelope, LabApiEvent } from '../../src-main/contract/lab-api';
import { EncryptedFileSecretStore, SECRETS_FILE, type SecretCipher } from '../../src-main/core/hosts/secret-store';
import { startTestbed, TESTBED_KEY_PASSPHRASE, TESTBED_PASSWORD, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { expectNothingLeft } from '../support/lab-checks';
import { assertCliBuilt, runCli } from '../support/run-cli';
import { aesTestCipher } from '../support/test-cipher';

const SECRETS = { password: TESTBED_PASSWORD, passphrase: TESTBED_KEY_PASSPHRASE };
const demoText = readFileSync(join(__dirname, '..', '..', 'examples', 'demo-bridge-vxlan.yaml'), 'utf8');

const noDemoLab: DemoLabController = {
  availability: () => Promise.resolve({ available: false, reason: 'not in this test' }),
  current: () => Promise.resolve(null),
  start: () => Promise.reject(new Error('not in this test')),
  stop: () => Promise.resolve(),
};

let testbed: Testbed;
let scratch: string;
let dirs: { workspace: string; config: string; home: string };
let cipher: SecretCipher;
let lab: LabConsole | undefined;
const events: LabApiEvent[] = [];
/** Every answer any request gave, kept to be scanned too. */
const answers: unknown[] = [];

async function openConsole(): Promise<LabConsole> {
  const opened = await openLabConsole({
    workspaceDir: dirs.workspace,
    configDir: dirs.config,
    homeDir: dirs.home,
    env: {},
    shell: 'electron',
    demoLab: noDemoLab,
    secretStore: new EncryptedFileSecretStore({ configDir: dirs.config, cipher }),
  });
  opened.dispatcher.subscribe((batch) => events.push(...batch));
  return opened;
}

async function call<T>(method: string, payload?: unknown): Promise<LabApiEnvelope<T>> {
  const answer = (await lab?.dispatcher.invoke(method, payload)) as LabApiEnvelope<T>;
  answers.push(answer);
  return answer;
}

async function value<T>(method: string, payload?: unknown): Promise<T> {
  const answer = await call<T>(method, payload);
  if (!answer.ok) throw new Error(`${method} failed: ${answer.error.code}: ${answer.error.message}`);
  return answer.value;
}

async function finished(jobId: string, timeoutMs = 90_000): Promise<Extract<LabApiEvent, { type: 'job-finished' }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = events.find((event): event is Extract<LabApiEvent, { type: 'job-finished' }> => event.type === 'job-finished' && event.jobId === jobId);
    if (done) return done;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Connects; an unknown host key is trusted (exactly the one shown), as a user would after checking it. */
async function connect(name: string): Promise<void> {
  const first = await call('checkHost', { name });
  if (first.ok) return;
  expect(first.error.code).toBe('host-key-unknown');
  await value('trustHostKey', { name, fingerprint: String(first.error.details?.fingerprint) });
}

/** The byte patterns a secret could hide in: plain, UTF-16LE, hex, base64 and base64url at every alignment. */
function patterns(secret: string): Buffer[] {
  const utf8 = Buffer.from(secret, 'utf8');
  const texts = [secret, JSON.stringify(secret).slice(1, -1), utf8.toString('hex'), utf8.toString('hex').toUpperCase()];
  for (let offset = 0; offset < 3; offset += 1) {
    const shifted = Buffer.concat([Buffer.alloc(offset, 0x41), utf8]);
    for (const encoding of ['base64', 'base64url'] as const) {
      const text = shifted.toString(encoding).replace(/=+$/, '');
      // Characters touched by the filler before or by whatever follows the secret are left out.
      texts.push(text.slice(offset === 0 ? 0 : 4, text.length - 4));
    }
  }
  return [...texts.map((text) => Buffer.from(text, 'utf8')), Buffer.from(secret, 'utf16le')];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

/** `where: what` for every secret pattern found in a file (gzip data is looked into too). */
function findSecrets(files: string[]): string[] {
  const found: string[] = [];
  const all = Object.entries(SECRETS).map(([kind, secret]) => ({ kind, patterns: patterns(secret) }));
  const scan = (where: string, data: Buffer): void => {
    for (const { kind, patterns: forms } of all) {
      for (const form of forms) if (data.includes(form)) found.push(`${where}: the ${kind} (${form.toString('utf8').slice(0, 12)}…)`);
    }
    if (data[0] === 0x1f && data[1] === 0x8b) {
      try {
        scan(`${where} (gunzipped)`, gunzipSync(data));
      } catch {
        // Not gzip after all.
      }
    }
  };
  for (const file of files) scan(file, readFileSync(file));
  return found;
}

beforeAll(async () => {
  assertCliBuilt();
  testbed = await startTestbed({ hosts: 2 });
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-secrets-scan-'));
  dirs = { workspace: join(scratch, 'ws'), config: join(scratch, 'config'), home: join(scratch, 'home') };
  cipher = aesTestCipher();
  lab = await openConsole();
}, 120_000);

afterAll(async () => {
  await lab?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  await testbed?.teardown();
});

describe('passwords and passphrases never reach a file cnlab writes', () => {
  it('asks for the missing secrets with details.needsSecret, then connects with the given ones', async () => {
    const h1 = testbed.host('h1');
    const h2 = testbed.host('h2');
    // No environment variable anywhere: the secrets come from the console only.
    await value('saveHost', { host: { name: 'h1', kind: 'ssh', address: h1.address, port: h1.port, user: 'root', auth: { type: 'password' } } });
    await value('saveHost', { host: { name: 'h2', kind: 'ssh', address: h2.address, port: h2.port, user: 'root', auth: { type: 'key', keyFile: testbed.encryptedClientKeyPath } } });

    const noPassword = await call('checkHost', { name: 'h1' });
    expect(noPassword).toMatchObject({ ok: false, error: { code: 'auth-failed', details: { host: 'h1', needsSecret: 'password' } } });
    const noPassphrase = await call('checkHost', { name: 'h2' });
    expect(noPassphrase).toMatchObject({ ok: false, error: { code: 'key-encrypted', details: { host: 'h2', needsSecret: 'passphrase' } } });
    if (!noPassphrase.ok) expect(noPassphrase.error.message).toContain(testbed.encryptedClientKeyPath);

    // The password is remembered (the store is OS-protected here), the passphrase kept for this session.
    expect(await value('setHostSecret', { host: 'h1', kind: 'password', value: SECRETS.password, remember: true })).toMatchObject({ protection: 'os', remembered: true });
    expect(await value('setHostSecret', { host: 'h2', kind: 'passphrase', value: SECRETS.passphrase, remember: false })).toMatchObject({ remembered: false });
    await connect('h1');
    await connect('h2');
    const hosts = await value<{ host: { name: string }; state: string; privilege?: string }[]>('listHosts');
    expect(hosts.map((host) => [host.host.name, host.state, host.privilege])).toEqual([
      ['h1', 'connected', 'root'],
      ['h2', 'connected', 'root'],
    ]);
    // The remembered password is a ciphertext on disk.
    const stored = JSON.parse(readFileSync(join(dirs.config, SECRETS_FILE), 'utf8')) as { secrets: { host: string; kind: string }[] };
    expect(stored.secrets.map((entry) => `${entry.host}/${entry.kind}`)).toEqual(['h1/password']);
    expect(statSync(join(dirs.config, SECRETS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('probes, saves, applies and tears down a lab over those connections', async () => {
    const probe = await value<{ jobId: string }>('probeAllHosts');
    expect((await finished(probe.jobId)).outcome).toBe('succeeded');
    await value('saveTopology', { name: 'demo', text: demoText });
    const apply = await value<{ jobId: string }>('applyTopology', { text: demoText });
    const applied = await finished(apply.jobId);
    expect(applied.outcome, JSON.stringify(applied.error)).toBe('succeeded');
    const teardown = await value<{ jobId: string }>('teardownLab', { labId: 'demo' });
    expect((await finished(teardown.jobId)).outcome).toBe('succeeded');
    expect(await expectNothingLeft(testbed, 'demo')).toEqual([]);
    const log = await value<{ text: string; error?: string }[]>('getCommandLog', {});
    expect(log.length).toBeGreaterThan(0);
    answers.push(log);
  }, 180_000);

  it('after a restart uses the remembered password, and asks again for the session-only passphrase', async () => {
    await lab?.close();
    lab = await openConsole();
    expect((await call('checkHost', { name: 'h1' })).ok).toBe(true);
    expect(await call('checkHost', { name: 'h2' })).toMatchObject({ ok: false, error: { details: { needsSecret: 'passphrase' } } });
    // A wrong passphrase: said so, without quoting it.
    await value('setHostSecret', { host: 'h2', kind: 'passphrase', value: `${SECRETS.passphrase}-wrong`, remember: false });
    const wrong = await call('checkHost', { name: 'h2' });
    expect(wrong).toMatchObject({ ok: false, error: { code: 'key-encrypted', details: { needsSecret: 'passphrase' } } });
    await value('setHostSecret', { host: 'h2', kind: 'passphrase', value: SECRETS.passphrase, remember: false });
    expect((await call('probeHost', { name: 'h2' })).ok).toBe(true);
    // Forgotten: an open connection stays, the next one (here after a restart) has no password.
    expect(await value('forgetHostSecret', { host: 'h1', kind: 'password' })).toEqual({ forgotten: true });
    await lab?.close();
    lab = await openConsole();
    expect(await call('checkHost', { name: 'h1' })).toMatchObject({ ok: false, error: { details: { needsSecret: 'password' } } });
    await value('setHostSecret', { host: 'h1', kind: 'password', value: SECRETS.password, remember: true });
    await lab?.close();
    lab = undefined;
  });

  it('the CLI takes the password from a variable, and without one names the host and the ways to give it', async () => {
    const env = { HOME: dirs.home, CNLAB_CONFIG_DIR: dirs.config };
    const global = ['--workspace', dirs.workspace];
    const h1 = testbed.host('h1');
    // No terminal: nothing is asked, the specific error comes instead.
    const missing = await runCli([...global, 'hosts', 'probe', 'h1'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('host h1: no password is given');
    const added = await runCli(
      [...global, 'hosts', 'add', 'h1-env', '--address', h1.address, '--port', String(h1.port), '--password-env', 'TB_PASSWORD', '--trust-new-key'],
      { ...env, TB_PASSWORD: SECRETS.password },
    );
    expect(added.code, added.stderr).toBe(0);
    const probed = await runCli([...global, 'hosts', 'probe', 'h1-env'], { ...env, TB_PASSWORD: SECRETS.password });
    expect(probed.code, probed.stderr).toBe(0);
    for (const run of [missing, added, probed]) answers.push(run.stdout, run.stderr);
    expect(readFileSync(join(dirs.workspace, 'workspace.yaml'), 'utf8')).toContain('passwordEnv: TB_PASSWORD');
  }, 60_000);

  it('finds neither secret in any file under the workspace, the config folder or HOME, nor in answers, events or the journal', () => {
    const files = filesUnder(scratch);
    // Files cnlab wrote: the inventory, topologies, facts cache, lab records, known hosts, recent list, secrets.
    const relative = files.map((file) => file.slice(scratch.length + 1));
    expect(relative).toEqual(expect.arrayContaining(['ws/workspace.yaml', 'ws/topologies/demo.yaml', `config/${SECRETS_FILE}`, 'config/known_hosts', 'config/recent-workspaces.json']));
    expect(relative.some((file) => file.startsWith('ws/cache/facts/'))).toBe(true);
    expect(files.length).toBeGreaterThan(6);
    expect(findSecrets(files)).toEqual([]);

    const transcript = Buffer.from(JSON.stringify({ answers, events }), 'utf8');
    const found = Object.entries(SECRETS).flatMap(([kind, secret]) => patterns(secret).filter((form) => transcript.includes(form)).map(() => kind));
    expect(found).toEqual([]);
  });

  it('the scan itself finds a planted secret in every form it claims', () => {
    const planted = mkdtempSync(join(tmpdir(), 'cnlab-secrets-plant-'));
    try {
      const forms = {
        plain: `x ${SECRETS.password} y`,
        hex: Buffer.from(SECRETS.passphrase).toString('hex'),
        base64: `{"v":"${Buffer.from(`"${SECRETS.password}"`).toString('base64')}"}`,
      };
      for (const [name, text] of Object.entries(forms)) writeFileSync(join(planted, name), text);
      writeFileSync(join(planted, 'utf16'), Buffer.from(SECRETS.passphrase, 'utf16le'));
      writeFileSync(join(planted, 'data.gz'), gzipSync(`nested ${SECRETS.passphrase}`));
      const found = findSecrets(filesUnder(planted));
      for (const name of ['plain', 'hex', 'base64', 'utf16', 'data.gz (gunzipped)']) expect(found.some((line) => line.includes(`${join(planted, name)}:`))).toBe(true);
    } finally {
      rmSync(planted, { recursive: true, force: true });
    }
  });
});
