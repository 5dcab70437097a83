// The safeStorage adapter: async API preferred, the sync one when this Electron lacks it, and on Linux the
// "basic_text" backend (or no encryption at all) reported as unprotected with the keyring fix.
import { describe, expect, it, vi } from 'vitest';

// The Electron binary cannot run here, so `electron` is replaced by this double; each test passes its own
// safeStorage stand-in, and the module's default must never be reached.
vi.mock('electron', () => ({ safeStorage: { isEncryptionAvailable: () => { throw new Error('the real safeStorage is not used in tests'); } } }));

const { createSafeStorageCipher } = await import('./safe-storage-cipher');

/** Reversible but visibly transformed bytes, like a real backend. */
function fakeStorage(options: { async: boolean; available: boolean; backend?: string }) {
  const flip = (data: Buffer): Buffer => Buffer.from(data.map((byte) => byte ^ 0x5a));
  const calls: string[] = [];
  const storage = {
    encryptString: vi.fn((text: string) => (calls.push('encryptString'), flip(Buffer.from(text, 'utf8')))),
    decryptString: vi.fn((data: Buffer) => (calls.push('decryptString'), flip(data).toString('utf8'))),
    isEncryptionAvailable: vi.fn(() => options.available),
    getSelectedStorageBackend: vi.fn(() => (options.backend ?? 'gnome_libsecret') as 'basic_text'),
    setUsePlainTextEncryption: vi.fn(),
    ...(options.async
      ? {
          encryptStringAsync: vi.fn((text: string) => (calls.push('encryptStringAsync'), Promise.resolve(flip(Buffer.from(text, 'utf8'))))),
          decryptStringAsync: vi.fn((data: Buffer) => (calls.push('decryptStringAsync'), Promise.resolve({ result: flip(data).toString('utf8'), shouldReEncrypt: false }))),
          isAsyncEncryptionAvailable: vi.fn(() => Promise.resolve(options.available)),
        }
      : {}),
  };
  return { storage, calls };
}

describe('createSafeStorageCipher', () => {
  it('uses the async API and reports a Linux keyring as OS protection', async () => {
    const { storage, calls } = fakeStorage({ async: true, available: true, backend: 'gnome_libsecret' });
    const { cipher, protection, note } = await createSafeStorageCipher(storage, 'linux');
    expect(protection).toBe('os');
    expect(cipher.backend).toBe('gnome_libsecret');
    expect(note).toContain('encrypted by the OS secret store (gnome_libsecret)');
    const encrypted = await cipher.encrypt('s3cret');
    expect(encrypted.toString('utf8')).not.toContain('s3cret');
    expect(await cipher.decrypt(encrypted)).toBe('s3cret');
    expect(calls).toEqual(['encryptStringAsync', 'decryptStringAsync']);
    expect(storage.setUsePlainTextEncryption).not.toHaveBeenCalled();
  });

  it('falls back to the sync API when this Electron has no async one', async () => {
    const { storage, calls } = fakeStorage({ async: false, available: true });
    const { cipher, protection } = await createSafeStorageCipher(storage, 'darwin');
    expect(protection).toBe('os');
    expect(cipher.backend).toBe('keychain');
    expect(await cipher.decrypt(await cipher.encrypt('pw'))).toBe('pw');
    expect(calls).toEqual(['encryptString', 'decryptString']);
  });

  it('says secrets are not protected on basic_text, and how to fix it', async () => {
    const { storage } = fakeStorage({ async: true, available: true, backend: 'basic_text' });
    const { protection, note } = await createSafeStorageCipher(storage, 'linux');
    expect(protection).toBe('unprotected');
    expect(note).toContain('secrets are not protected');
    expect(note).toContain('basic_text');
    expect(note).toContain('gnome-keyring');
    expect(note).toContain('KWallet');
  });

  it('treats unavailable encryption as unprotected and allows plain-text keys only when used', async () => {
    const { storage } = fakeStorage({ async: true, available: false, backend: 'basic_text' });
    const { cipher, protection, note } = await createSafeStorageCipher(storage, 'linux');
    expect(protection).toBe('unprotected');
    expect(note).toContain('not available');
    expect(storage.setUsePlainTextEncryption).not.toHaveBeenCalled();
    await cipher.encrypt('pw');
    expect(storage.setUsePlainTextEncryption).toHaveBeenCalledWith(true);
  });
});
