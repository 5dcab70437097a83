// The secret stores and the connect-time lookup: ciphertexts only on disk (0600), a damaged file refused with
// the fix, and the order session value → secret store → the inventory's environment variable → prompt.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CnlabError } from '../errors';
import { aesTestCipher } from '../../../tests/support/test-cipher';
import { EncryptedFileSecretStore, layeredSecretLookup, MemorySecretStore, missingSecretError, SECRETS_FILE, type SecretCipher } from './secret-store';

const PASSWORD = 'Tr0ub4dor&3-unit-pw';
const PASSPHRASE = 'correct horse battery staple (unit)';

function forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, bytes.toString('base64'), bytes.toString('hex'), bytes.toString('base64url'), JSON.stringify(secret).slice(1, -1)];
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cnlab-secrets-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function failure(work: Promise<unknown>): Promise<CnlabError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof CnlabError) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('MemorySecretStore', () => {
  it('keeps values per host, kind and workspace for the session only', async () => {
    const store = new MemorySecretStore();
    await store.set({ host: 'h1', kind: 'password', workspace: '/w1' }, PASSWORD);
    expect(await store.get({ host: 'h1', kind: 'password', workspace: '/w1' })).toBe(PASSWORD);
    expect(await store.get({ host: 'h1', kind: 'password', workspace: '/w2' })).toBeUndefined();
    expect(await store.get({ host: 'h1', kind: 'passphrase', workspace: '/w1' })).toBeUndefined();
    expect(store.protection()).toBe('memory');
    expect(await store.delete({ host: 'h1', kind: 'password', workspace: '/w1' })).toBe(true);
    expect(await store.get({ host: 'h1', kind: 'password', workspace: '/w1' })).toBeUndefined();
  });
});

describe('EncryptedFileSecretStore', () => {
  it('writes only ciphertexts, mode 0600, and reads them back', async () => {
    const cipher = aesTestCipher();
    const store = new EncryptedFileSecretStore({ configDir: dir, cipher });
    await store.set({ host: 'h1', kind: 'password', workspace: '/ws' }, PASSWORD);
    await store.set({ host: 'h1', kind: 'passphrase', workspace: '/ws' }, PASSPHRASE);
    const file = join(dir, SECRETS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, 'utf8');
    for (const form of [...forms(PASSWORD), ...forms(PASSPHRASE)]) expect(text).not.toContain(form);
    expect(JSON.parse(text)).toMatchObject({ version: 1, backend: 'test-aes-gcm', secrets: [{ host: 'h1', kind: 'password', workspace: '/ws' }, { host: 'h1', kind: 'passphrase' }] });
    // No temporary file is left beside it.
    expect(readdirSync(dir)).toEqual([SECRETS_FILE]);

    const reopened = new EncryptedFileSecretStore({ configDir: dir, cipher });
    expect(await reopened.get({ host: 'h1', kind: 'password', workspace: '/ws' })).toBe(PASSWORD);
    expect(await reopened.get({ host: 'h1', kind: 'passphrase', workspace: '/ws' })).toBe(PASSPHRASE);
    expect(await reopened.get({ host: 'h1', kind: 'password', workspace: '/other' })).toBeUndefined();
    expect(reopened.protection()).toBe('os');
  });

  it('keeps concurrent saves and deletes each entry alone', async () => {
    const store = new EncryptedFileSecretStore({ configDir: dir, cipher: aesTestCipher() });
    await Promise.all(['h1', 'h2', 'h3', 'h4'].map((host) => store.set({ host, kind: 'password' }, `${PASSWORD}-${host}`)));
    expect(await store.get({ host: 'h3', kind: 'password' })).toBe(`${PASSWORD}-h3`);
    expect(await store.delete({ host: 'h3', kind: 'password' })).toBe(true);
    expect(await store.delete({ host: 'h3', kind: 'password' })).toBe(false);
    expect(await store.get({ host: 'h3', kind: 'password' })).toBeUndefined();
    expect(await store.get({ host: 'h4', kind: 'password' })).toBe(`${PASSWORD}-h4`);
  });

  it('refuses a damaged file with a specific error naming it and the fix', async () => {
    const store = new EncryptedFileSecretStore({ configDir: dir, cipher: aesTestCipher() });
    for (const content of ['{not json', '{"version":1,"backend":"x","secrets":[{"host":"h1","kind":"pin","ciphertext":"AA=="}]}', '[]']) {
      writeFileSync(join(dir, SECRETS_FILE), content);
      const error = await failure(store.get({ host: 'h1', kind: 'password' }));
      expect(error.code).toBe('io');
      expect(error.message).toBe(`the secrets file ${join(dir, SECRETS_FILE)} is damaged or not cnlab's: delete it and give the hosts' passwords and passphrases again`);
      expect((await failure(store.set({ host: 'h1', kind: 'password' }, PASSWORD))).message).toContain('is damaged');
    }
  });

  it('says which secret it cannot decrypt, never the cipher message', async () => {
    await new EncryptedFileSecretStore({ configDir: dir, cipher: aesTestCipher() }).set({ host: 'h1', kind: 'passphrase' }, PASSPHRASE);
    // Another key (the keyring changed): decryption fails.
    const error = await failure(new EncryptedFileSecretStore({ configDir: dir, cipher: aesTestCipher() }).get({ host: 'h1', kind: 'passphrase' }));
    expect(error.code).toBe('io');
    expect(error.message).toContain('cannot decrypt the remembered passphrase of host h1');
  });

  it('never puts the value in an encryption error', async () => {
    const broken: SecretCipher = { backend: 'locked', encrypt: (text) => Promise.reject(new Error(`cannot encrypt ${text}`)), decrypt: () => Promise.reject(new Error('no')) };
    const error = await failure(new EncryptedFileSecretStore({ configDir: dir, cipher: broken }).set({ host: 'h1', kind: 'password' }, PASSWORD));
    expect(error.message).toContain('cannot encrypt the password of host h1 with locked');
    expect(error.message).not.toContain(PASSWORD);
    expect(JSON.stringify(error.details)).not.toContain(PASSWORD);
  });

  it('reports an unprotected backend with its note', () => {
    const store = new EncryptedFileSecretStore({ configDir: dir, cipher: aesTestCipher('basic_text'), protection: 'unprotected' });
    expect(store.protection()).toBe('unprotected');
    expect(store.protectionNote).toContain('NOT protected');
  });
});

describe('layeredSecretLookup', () => {
  it('asks the session, then the store, then the named variable, then the prompt', async () => {
    const session = new MemorySecretStore();
    const store = new MemorySecretStore();
    const asked: string[] = [];
    const lookup = layeredSecretLookup({
      session,
      store,
      env: { PW: 'from-env' },
      workspace: '/ws',
      prompt: (request) => {
        asked.push(`${request.host}/${request.kind}`);
        return Promise.resolve('from-prompt');
      },
    });
    const request = { host: 'h1', kind: 'password' as const, envName: 'PW' };
    expect(await lookup(request)).toBe('from-env');
    await store.set({ host: 'h1', kind: 'password', workspace: '/ws' }, 'from-store');
    expect(await lookup(request)).toBe('from-store');
    await session.set({ host: 'h1', kind: 'password', workspace: '/ws' }, 'from-session');
    expect(await lookup(request)).toBe('from-session');
    expect(asked).toEqual([]);

    // Nothing anywhere: the prompt answers once, and its answer is kept for the session.
    const other = { host: 'h2', kind: 'passphrase' as const, envName: 'UNSET' };
    expect(await lookup(other)).toBe('from-prompt');
    expect(await lookup(other)).toBe('from-prompt');
    expect(asked).toEqual(['h2/passphrase']);
  });

  it('finds nothing without any source', async () => {
    expect(await layeredSecretLookup({ env: {} })({ host: 'h1', kind: 'password', envName: 'PW' })).toBeUndefined();
  });
});

describe('missingSecretError', () => {
  it('names the host, the secret and the ways to give it, with details for the page', () => {
    const password = missingSecretError({ host: 'h1', kind: 'password', envName: 'H1_PW' });
    expect(password.code).toBe('auth-failed');
    expect(password.message).toBe(
      'host h1: no password is given: export $H1_PW, or enter it in the console (remembered in the OS secret store, or for this session only), or run the CLI on a terminal, which asks for it',
    );
    expect(password.details).toEqual({ host: 'h1', needsSecret: 'password' });
    const passphrase = missingSecretError({ host: 'h2', kind: 'passphrase', keyFile: '/k/id' });
    expect(passphrase.code).toBe('key-encrypted');
    expect(passphrase.message).toContain('host h2: no passphrase of key /k/id is given');
    expect(passphrase.message).toContain("name an environment variable that holds it in the host's settings");
    expect(passphrase.message).toContain('ssh-agent');
    expect(passphrase.details).toEqual({ host: 'h2', needsSecret: 'passphrase' });
  });
});
