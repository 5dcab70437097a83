// The console's secrets requests through the dispatcher (no host is contacted): remembered only in a store
// that protects them (or with the user's consent when it does not), otherwise for the session; the value is
// never echoed in an answer or an error, and the app info tells how secrets are kept.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore, SECRETS_FILE, type SecretStore } from '../core/hosts/secret-store';
import type { AppInfo, LabApiEnvelope } from '../contract/lab-api';
import { aesTestCipher } from '../../tests/support/test-cipher';
import type { DemoLabController } from './demo-area';
import { openLabConsole, type LabConsole } from './lab-console';

const SECRET = 'pw-never-echoed-7f3a';

const noDemoLab: DemoLabController = {
  availability: () => Promise.resolve({ available: false, reason: 'not in this test' }),
  current: () => Promise.resolve(null),
  start: () => Promise.reject(new Error('not in this test')),
  stop: () => Promise.resolve(),
};

let scratch: string | undefined;
let lab: LabConsole | undefined;

afterEach(async () => {
  await lab?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  lab = undefined;
  scratch = undefined;
});

async function open(secretStore?: (configDir: string) => SecretStore) {
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-secrets-api-'));
  const configDir = join(scratch, 'config');
  lab = await openLabConsole({
    workspaceDir: join(scratch, 'ws'),
    configDir,
    homeDir: join(scratch, 'home'),
    env: {},
    shell: secretStore ? 'electron' : 'browser',
    demoLab: noDemoLab,
    ...(secretStore ? { secretStore: secretStore(configDir) } : {}),
  });
  const call = async <T>(method: string, payload?: unknown) => (await lab?.dispatcher.invoke(method, payload)) as LabApiEnvelope<T>;
  for (const host of [
    { name: 'pw', kind: 'ssh', address: '192.0.2.1', auth: { type: 'password' } },
    { name: 'key', kind: 'ssh', address: '192.0.2.2', auth: { type: 'key', keyFile: '/nonexistent/id_ed25519' } },
  ]) {
    expect((await call('saveHost', { host })).ok).toBe(true);
  }
  return { call, configDir };
}

describe('setHostSecret / forgetHostSecret', () => {
  it('keeps secrets for the session only in browser mode and refuses to remember them', async () => {
    const { call } = await open();
    const info = await call<AppInfo>('getAppInfo');
    expect(info.ok && info.value.secrets.protection).toBe('memory');
    expect(info.ok && info.value.secrets.note).toContain('ssh-agent');

    const refused = await call('setHostSecret', { host: 'pw', kind: 'password', value: SECRET, remember: true });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid-input', details: { reason: 'no-store' } } });
    expect(JSON.stringify(refused)).not.toContain(SECRET);

    const kept = await call('setHostSecret', { host: 'pw', kind: 'password', value: SECRET, remember: false });
    expect(kept).toEqual({ ok: true, value: { protection: 'memory', note: expect.any(String) as string, remembered: false } });
    expect(await call('forgetHostSecret', { host: 'pw', kind: 'password' })).toEqual({ ok: true, value: { forgotten: true } });
    expect(await call('forgetHostSecret', { host: 'pw', kind: 'password' })).toEqual({ ok: true, value: { forgotten: false } });
  });

  it('remembers in an OS-protected store, ciphertext only', async () => {
    const { call, configDir } = await open((dir) => new EncryptedFileSecretStore({ configDir: dir, cipher: aesTestCipher() }));
    const info = await call<AppInfo>('getAppInfo');
    expect(info.ok && info.value.secrets.protection).toBe('os');
    const stored = await call('setHostSecret', { host: 'key', kind: 'passphrase', value: SECRET, remember: true });
    expect(stored).toMatchObject({ ok: true, value: { protection: 'os', remembered: true } });
    const file = readFileSync(join(configDir, SECRETS_FILE), 'utf8');
    expect(file).toContain('"host": "key"');
    expect(file).not.toContain(SECRET);
    expect(await call('forgetHostSecret', { host: 'key', kind: 'passphrase' })).toEqual({ ok: true, value: { forgotten: true } });
    expect(readFileSync(join(configDir, SECRETS_FILE), 'utf8')).not.toContain('"host": "key"');
  });

  it('remembers in an unprotected store only when the user accepted it', async () => {
    const { call } = await open((dir) => new EncryptedFileSecretStore({ configDir: dir, cipher: aesTestCipher('basic_text'), protection: 'unprotected', protectionNote: 'secrets are not protected (basic_text)' }));
    const info = await call<AppInfo>('getAppInfo');
    expect(info.ok && info.value.secrets).toEqual({ protection: 'unprotected', note: 'secrets are not protected (basic_text)' });
    const refused = await call('setHostSecret', { host: 'pw', kind: 'password', value: SECRET, remember: true });
    expect(refused).toMatchObject({ ok: false, error: { code: 'invalid-input', details: { reason: 'unprotected' } } });
    if (!refused.ok) expect(refused.error.message).toContain('secrets are not protected (basic_text)');
    expect(await call('setHostSecret', { host: 'pw', kind: 'password', value: SECRET, remember: true, acceptUnprotected: true })).toMatchObject({ ok: true, value: { remembered: true } });
  });

  it('refuses a secret the host does not use, an unknown host and a bad payload without echoing the value', async () => {
    const { call } = await open();
    const answers = [
      await call('setHostSecret', { host: 'key', kind: 'password', value: SECRET, remember: false }),
      await call('setHostSecret', { host: 'nope', kind: 'password', value: SECRET, remember: false }),
      await call('setHostSecret', { host: 'pw', kind: 'pin', value: SECRET, remember: false }),
      await call('setHostSecret', { host: 'pw', kind: 'password', value: SECRET, remember: 'yes' }),
      await call('setHostSecret', { host: 'pw', kind: 'password', value: SECRET, remember: false, extra: 1 }),
      await call('setHostSecret', { host: 'pw', kind: 'password', value: `${SECRET}${'x'.repeat(5000)}`, remember: false }),
    ];
    expect(answers.map((answer) => (answer.ok ? 'ok' : answer.error.code))).toEqual(['invalid-input', 'not-found', 'invalid-input', 'invalid-input', 'invalid-input', 'invalid-input']);
    expect(answers[0]).toMatchObject({ ok: false, error: { message: 'host key logs in with a key file: it takes no password (change the host\'s authentication first)' } });
    for (const answer of answers) expect(JSON.stringify(answer)).not.toContain(SECRET);
  });

  it('makes a connection lacking its password fail with details.needsSecret', async () => {
    const { call } = await open();
    const answer = await call('checkHost', { name: 'pw' });
    expect(answer).toMatchObject({ ok: false, error: { code: 'auth-failed', details: { host: 'pw', needsSecret: 'password' } } });
    if (!answer.ok) expect(answer.error.message).toContain('host pw: no password is given');
  });
});
