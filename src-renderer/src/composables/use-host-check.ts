// Testing a host's connection, with the outcomes that need the user: an unknown key asks for trust
// (showing its fingerprint), a changed or revoked key is refused and can only be explained, and a missing
// or wrong password or key passphrase asks for it (then checks again).
import { ref } from 'vue';
import type { HostCheck, HostSecretKind } from '@contract/lab-api';
import { useHostsStore } from '../stores/hosts-store';
import { apiErrorOf, useErrorReporter } from './use-error-reporter';

export interface TrustPrompt {
  name: string;
  address: string;
  port: number | null;
  keyType: string;
  fingerprint: string;
  message: string;
}

export interface SecretPrompt {
  name: string;
  kind: HostSecretKind;
  message: string;
}

export interface KeyRefusal {
  name: string;
  message: string;
}

type ApiError = NonNullable<ReturnType<typeof apiErrorOf>>;

function detail(error: ApiError, key: string): string {
  const value = error.details[key];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export function useHostCheck() {
  const hosts = useHostsStore();
  const reporter = useErrorReporter();
  const trustPrompt = ref<TrustPrompt | null>(null);
  const keyRefusal = ref<KeyRefusal | null>(null);
  const secretPrompt = ref<SecretPrompt | null>(null);

  function promptFor(name: string, error: ApiError): TrustPrompt {
    const view = hosts.hosts.find((candidate) => candidate.host.name === name);
    const ssh = view?.host.kind === 'ssh' ? view.host : null;
    const port = Number(detail(error, 'port')) || ssh?.port || null;
    return { name, address: detail(error, 'host') || ssh?.address || name, port, keyType: detail(error, 'keyType') || 'unknown type', fingerprint: detail(error, 'fingerprint'), message: error.message };
  }

  function handleFailure(name: string, error: unknown): void {
    const api = apiErrorOf(error);
    if (api?.code === 'host-key-unknown' && detail(api, 'fingerprint')) trustPrompt.value = promptFor(name, api);
    else if (api?.code === 'host-key-changed' || api?.code === 'host-key-revoked') keyRefusal.value = { name, message: api.message };
    else if (api && (api.details.needsSecret === 'password' || api.details.needsSecret === 'passphrase')) secretPrompt.value = { name, kind: api.details.needsSecret, message: api.message };
    else reporter.report(error);
  }

  async function check(name: string): Promise<HostCheck | null> {
    reporter.clear();
    try {
      return await hosts.check(name);
    } catch (error) {
      handleFailure(name, error);
      return null;
    }
  }

  /** Trusts exactly the fingerprint the prompt showed; the server refuses any other key. */
  async function acceptTrust(): Promise<HostCheck | null> {
    const prompt = trustPrompt.value;
    if (!prompt) return null;
    trustPrompt.value = null;
    try {
      return await hosts.trust(prompt.name, prompt.fingerprint);
    } catch (error) {
      handleFailure(prompt.name, error);
      return null;
    }
  }

  return { check, acceptTrust, trustPrompt, keyRefusal, secretPrompt, error: reporter.error, clearError: reporter.clear, report: reporter.report };
}
