// A SecretCipher for tests that really transforms bytes, like the OS secret store would: AES-256-GCM with a
// random key held only in this process's memory (so no file a test leaves behind can be decrypted).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SecretCipher } from '../../src-main/core/hosts/secret-store';

export function aesTestCipher(backend = 'test-aes-gcm'): SecretCipher {
  const key = randomBytes(32);
  return {
    backend,
    encrypt(text) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
      return Promise.resolve(Buffer.concat([iv, cipher.getAuthTag(), body]));
    },
    decrypt(data) {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(12, 28));
      return Promise.resolve(Buffer.concat([decipher.update(data.subarray(28)), decipher.final()]).toString('utf8'));
    },
  };
}
