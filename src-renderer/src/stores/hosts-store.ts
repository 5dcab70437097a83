// The Hosts area's state: the inventory with live connection states, the selected host, and the actions
// (save, remove, check, trust, probe, import) that go through the LabApi; host events keep it current.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { type HostCheck, type HostConnectionState, type HostView, type LabApiEvent, type LabApiRequests } from '@contract/lab-api';
import { useLabApi } from '../api/lab-client';
import { apiErrorOf } from '../composables/use-error-reporter';

export type HostInput = Parameters<LabApiRequests['saveHost']>[0]['host'];
export type HostFactsView = NonNullable<HostView['facts']>;

/** The state a failed check leaves a host in, until the server's host-state event says more. */
export function stateAfterCheckError(error: unknown): HostConnectionState {
  const code = apiErrorOf(error)?.code ?? '';
  if (code === 'host-key-unknown') return 'key-unknown';
  if (code === 'host-key-changed' || code === 'host-key-revoked') return 'key-changed';
  if (code === 'auth-failed' || code === 'key-encrypted' || code === 'key-unreadable') return 'auth-failed';
  return 'unreachable';
}

export const useHostsStore = defineStore('hosts', () => {
  const hosts = ref<HostView[]>([]);
  const selectedName = ref<string | null>(null);
  const loading = ref(false);
  const loaded = ref(false);
  /** Hosts the last "Probe all" could not probe, with the reason; shown until dismissed. */
  const probeFailures = ref<{ host: string; message: string }[]>([]);

  const selected = computed(() => hosts.value.find((view) => view.host.name === selectedName.value) ?? null);
  const sshHostNames = computed(() => hosts.value.filter((view) => view.host.kind === 'ssh').map((view) => view.host.name));
  const hasLocalHost = computed(() => hosts.value.some((view) => view.host.kind === 'local'));

  function find(name: string): HostView | undefined {
    return hosts.value.find((view) => view.host.name === name);
  }

  function upsert(view: HostView): void {
    const index = hosts.value.findIndex((existing) => existing.host.name === view.host.name);
    if (index === -1) hosts.value = [...hosts.value, view].sort((a, b) => a.host.name.localeCompare(b.host.name));
    else hosts.value = hosts.value.map((existing, at) => (at === index ? view : existing));
  }

  function patch(name: string, changes: Partial<HostView>): void {
    const view = find(name);
    if (view) upsert({ ...view, ...changes });
  }

  async function load(): Promise<void> {
    loading.value = true;
    try {
      hosts.value = [...(await useLabApi().listHosts())].sort((a, b) => a.host.name.localeCompare(b.host.name));
      loaded.value = true;
      if (selectedName.value && !find(selectedName.value)) selectedName.value = null;
    } finally {
      loading.value = false;
    }
  }

  function applyEvent(event: LabApiEvent): void {
    if (event.type === 'host-state') upsert(event.view);
    // A reload failure here has no one to report to; the next user action shows it.
    else if (event.type === 'hosts-changed') load().catch(() => undefined);
    else if (event.type === 'job-finished' && event.result?.kind === 'probe-all') {
      probeFailures.value = event.result.hosts.flatMap((entry) => (entry.ok ? [] : [{ host: entry.host, message: entry.error?.message ?? 'the probe failed without a reason' }]));
      // The facts changed on the server; one reload picks them all up.
      load().catch(() => undefined);
    }
  }

  function dismissProbeFailures(): void {
    probeFailures.value = [];
  }

  function select(name: string | null): void {
    selectedName.value = name;
  }

  async function save(host: HostInput, originalName?: string): Promise<HostView> {
    const view = await useLabApi().saveHost(originalName ? { host, originalName } : { host });
    if (originalName && originalName !== view.host.name) {
      hosts.value = hosts.value.filter((existing) => existing.host.name !== originalName);
      if (selectedName.value === originalName) selectedName.value = view.host.name;
    }
    upsert(view);
    return view;
  }

  async function remove(name: string): Promise<void> {
    await useLabApi().removeHost({ name });
    hosts.value = hosts.value.filter((view) => view.host.name !== name);
    if (selectedName.value === name) selectedName.value = null;
  }

  async function check(name: string): Promise<HostCheck> {
    patch(name, { state: 'checking', stateMessage: undefined });
    try {
      const result = await useLabApi().checkHost({ name });
      patch(name, { state: 'connected', connectMs: result.connectMs, privilege: result.privilege, stateMessage: undefined });
      return result;
    } catch (error) {
      patch(name, { state: stateAfterCheckError(error), stateMessage: error instanceof Error ? error.message : undefined });
      throw error;
    }
  }

  async function trust(name: string, fingerprint: string): Promise<HostCheck> {
    patch(name, { state: 'checking' });
    try {
      const result = await useLabApi().trustHostKey({ name, fingerprint });
      patch(name, { state: 'connected', connectMs: result.connectMs, privilege: result.privilege, stateMessage: undefined });
      return result;
    } catch (error) {
      patch(name, { state: stateAfterCheckError(error), stateMessage: error instanceof Error ? error.message : undefined });
      throw error;
    }
  }

  async function probe(name: string): Promise<HostFactsView> {
    const facts = await useLabApi().probeHost({ name });
    patch(name, { facts });
    return facts;
  }

  function probeAll() {
    return useLabApi().probeAllHosts();
  }

  function previewImport(file?: string) {
    return useLabApi().previewSshConfigImport(file ? { file } : {});
  }

  async function importHosts(names: string[], file?: string): Promise<HostView[]> {
    const views = await useLabApi().importSshConfigHosts(file ? { file, names } : { names });
    for (const view of views) upsert(view);
    return views;
  }

  /** "This machine": cnlab runs the commands locally, no SSH. */
  async function addThisMachine(): Promise<HostView | null> {
    if (hasLocalHost.value) return null;
    return save({ kind: 'local', name: 'local' });
  }

  return {
    hosts,
    selectedName,
    selected,
    loading,
    loaded,
    probeFailures,
    dismissProbeFailures,
    sshHostNames,
    hasLocalHost,
    load,
    applyEvent,
    select,
    save,
    remove,
    check,
    trust,
    probe,
    probeAll,
    previewImport,
    importHosts,
    addThisMachine,
  };
});
