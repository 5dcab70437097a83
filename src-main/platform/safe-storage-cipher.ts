// Electron adapter of core's SecretCipher: host passwords and key passphrases the desktop app remembers are
// encrypted by the OS secret store through safeStorage (Keychain, DPAPI, libsecret/KWallet). On Linux without
// a keyring safeStorage falls back to "basic_text", a key anyone can know: then the protection is
// 'unprotected' and the note says so, with the fix. Call after the app is ready.
import { safeStorage } from 'electron';
import { EncryptedFileSecretStore, type SecretCipher } from '../core/hosts/secret-store';

/** The parts of safeStorage used here; the async ones are missing in older Electron versions. */
export type SafeStorageApi = Pick<Electron.SafeStorage, 'encryptString' | 'decryptString' | 'isEncryptionAvailable'> &
  Partial<Pick<Electron.SafeStorage, 'encryptStringAsync' | 'decryptStringAsync' | 'isAsyncEncryptionAvailable' | 'getSelectedStorageBackend' | 'setUsePlainTextEncryption'>>;

export interface SafeStorageSecrets {
  cipher: SecretCipher;
  protection: 'os' | 'unprotected';
  note: string;
}

const KEYRING_FIX =
  'install and unlock a keyring (gnome-keyring, or KWallet on KDE) and restart cnlab; until then give secrets for this session only, or use ssh-agent, a key file or an environment variable';

function backendName(storage: SafeStorageApi, platform: NodeJS.Platform): string {
  if (platform === 'linux') return storage.getSelectedStorageBackend?.() ?? 'unknown';
  if (platform === 'darwin') return 'keychain';
  if (platform === 'win32') return 'dpapi';
  return platform;
}

export async function createSafeStorageCipher(storage: SafeStorageApi = safeStorage, platform: NodeJS.Platform = process.platform): Promise<SafeStorageSecrets> {
  const encryptAsync = storage.encryptStringAsync?.bind(storage);
  const decryptAsync = storage.decryptStringAsync?.bind(storage);
  const useAsync = encryptAsync !== undefined && decryptAsync !== undefined && typeof storage.isAsyncEncryptionAvailable === 'function';
  const available = useAsync ? await (storage.isAsyncEncryptionAvailable as () => Promise<boolean>)() : storage.isEncryptionAvailable();
  const backend = backendName(storage, platform);
  // 'unknown' only before the app is ready: not a keyring either.
  const plainKey = platform === 'linux' && (backend === 'basic_text' || backend === 'unknown');
  const protection = available && !plainKey ? 'os' : 'unprotected';

  // Without any key Electron refuses to encrypt; the store is only reached once the user accepted unprotected secrets.
  let plainTextAllowed = false;
  const ready = (): void => {
    if (available || plainTextAllowed || platform !== 'linux' || !storage.setUsePlainTextEncryption) return;
    storage.setUsePlainTextEncryption(true);
    plainTextAllowed = true;
  };

  const cipher: SecretCipher = {
    backend,
    async encrypt(text) {
      ready();
      return useAsync && encryptAsync ? encryptAsync(text) : storage.encryptString(text);
    },
    async decrypt(data) {
      ready();
      return useAsync && decryptAsync ? (await decryptAsync(data)).result : storage.decryptString(data);
    },
  };
  const note =
    protection === 'os'
      ? `remembered passwords and passphrases are encrypted by the OS secret store (${backend})`
      : available
        ? `secrets are not protected: the OS secret store backend is "${backend}" (no keyring), so anyone who can read your files can recover remembered passwords: ${KEYRING_FIX}`
        : `secrets are not protected: the OS secret store is not available (${backend}): ${KEYRING_FIX}`;
  return { cipher, protection, note };
}

/** The desktop app's lasting secret store: ciphertexts only, in <configDir>/secrets.json. */
export async function openSafeStorageSecretStore(configDir: string, storage: SafeStorageApi = safeStorage): Promise<EncryptedFileSecretStore> {
  const { cipher, protection, note } = await createSafeStorageCipher(storage);
  return new EncryptedFileSecretStore({ configDir, cipher, protection, protectionNote: note });
}
