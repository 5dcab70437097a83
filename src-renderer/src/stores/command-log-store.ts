// The log drawer's data: every command run on every host, loaded once when the drawer opens and then kept
// current from command events, newest first and capped so a long session cannot exhaust memory.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CommandLogEntry, LabApiEvent } from '@contract/lab-api';
import { useLabApi } from '../api/lab-client';

/** How many entries the drawer fetches when it opens. */
export const COMMAND_LOG_INITIAL = 500;
/** A sweep over 200 containers logs thousands of commands; older ones stay in the server's log. */
export const COMMAND_LOG_KEPT = 5000;

export const useCommandLogStore = defineStore('command-log', () => {
  /** Newest first. Shallow and replaced whole: entries never change, and deep proxies over 5000 rows made
   *  each prepend cost milliseconds. */
  const entries = shallowRef<CommandLogEntry[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const hostFilter = ref('');
  const labFilter = ref('');
  const selectedSeq = ref<number | null>(null);

  const hostNames = computed(() => [...new Set(entries.value.map((entry) => entry.host))].sort());
  const labNames = computed(() => [...new Set(entries.value.flatMap((entry) => (entry.lab ? [entry.lab] : [])))].sort());
  const filtered = computed(() =>
    entries.value.filter((entry) => (!hostFilter.value || entry.host === hostFilter.value) && (!labFilter.value || entry.lab === labFilter.value)),
  );
  const selected = computed(() => entries.value.find((entry) => entry.seq === selectedSeq.value) ?? null);

  function merge(incoming: CommandLogEntry[]): void {
    const bySeq = new Map(entries.value.map((entry) => [entry.seq, entry]));
    for (const entry of incoming) bySeq.set(entry.seq, entry);
    entries.value = [...bySeq.values()].sort((a, b) => b.seq - a.seq).slice(0, COMMAND_LOG_KEPT);
  }

  async function load(): Promise<void> {
    loading.value = true;
    try {
      // Merged, not replaced: command events that arrived while the request was in flight stay.
      merge(await useLabApi().getCommandLog({ limit: COMMAND_LOG_INITIAL }));
      loaded.value = true;
    } finally {
      loading.value = false;
    }
  }

  function applyEvent(event: LabApiEvent): void {
    if (event.type !== 'command') return;
    const first = entries.value[0];
    if (!first || event.entry.seq > first.seq) entries.value = [event.entry, ...entries.value.slice(0, COMMAND_LOG_KEPT - 1)];
    else merge([event.entry]);
  }

  /** A new workspace has its own log. */
  function reset(): void {
    entries.value = [];
    loaded.value = false;
    selectedSeq.value = null;
  }

  function select(seq: number | null): void {
    selectedSeq.value = seq;
  }

  return { entries, loaded, loading, hostFilter, labFilter, selectedSeq, hostNames, labNames, filtered, selected, load, applyEvent, reset, select };
});
