// The topology being designed: one model shared by the point-and-click designer and the YAML editor, kept
// in sync both ways, checked in the page on every edit and against the hosts' facts; open, save and new.
// A named design is saved into the workspace a moment after the last edit (the workspace's autosave delay).
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { DiagramLayout, NetworkMode } from '@contract/topology';
import { useLabApi } from '../api/lab-client';
import { useAutosave } from '../composables/use-autosave';
import { useAppStore } from './app-store';
import { describeProblem, draftProblems, draftToYaml, newDraft, readDraft, type ContainerDraft, type DraftProblem, type TopologyDraft } from '../topology/topology-draft';

/** Typing in the YAML editor is read back after this pause, so a half-typed line is not an error yet. */
export const YAML_DEBOUNCE_MS = 300;
/** The check against the hosts' facts asks the main process; one per pause in editing is enough. */
export const HOST_CHECK_DEBOUNCE_MS = 400;

function unusedName(prefix: string, taken: readonly string[]): string {
  for (let index = taken.length + 1; ; index++) if (!taken.includes(`${prefix}${index}`)) return `${prefix}${index}`;
}

export const useTopologyStore = defineStore('topology', () => {
  /** The last valid-as-YAML model: the designer edits it, valid YAML replaces it. */
  const draft = ref<TopologyDraft>(newDraft());
  const yamlText = ref(draftToYaml(draft.value));
  /** Problems of the YAML text while it cannot be read back (the designer keeps the last valid model). */
  const yamlProblems = ref<DraftProblem[]>([]);
  /** Problems the main process finds against the hosts' facts (checkTopology). */
  const hostProblems = ref<string[]>([]);
  const savedNames = ref<string[]>([]);
  const saving = ref(false);
  /** Bumped whenever the YAML text is replaced by the designer or a file (not by typing), for the editor. */
  const textVersion = ref(0);

  /** A new, untouched topology: nothing to complain about yet (its empty fields are not mistakes). */
  const isEmpty = computed(() => !draft.value.name && draft.value.hosts.length === 0 && draft.value.networks.length === 0 && draft.value.containers.length === 0);
  const designProblems = computed(() => (isEmpty.value ? [] : draftProblems(draft.value)));
  const problems = computed(() => [...yamlProblems.value.map(describeProblem), ...designProblems.value.map(describeProblem), ...hostProblems.value]);
  const canRun = computed(() => !isEmpty.value && designProblems.value.length === 0 && yamlProblems.value.length === 0);

  let draftFromText = false;
  let yamlTimer: ReturnType<typeof setTimeout> | null = null;
  let checkTimer: ReturnType<typeof setTimeout> | null = null;
  let checkSequence = 0;

  function clearYamlTimer(): void {
    if (yamlTimer) clearTimeout(yamlTimer);
    yamlTimer = null;
  }

  watch(
    draft,
    () => {
      if (draftFromText) draftFromText = false;
      else {
        clearYamlTimer();
        yamlText.value = draftToYaml(draft.value);
        yamlProblems.value = [];
        textVersion.value++;
      }
      scheduleHostCheck();
    },
    { deep: true },
  );

  // The work in progress survives a reload or a crash of the page: the text is kept in this browser's
  // storage (not a secret: a topology holds names and addresses only) until it is replaced.
  const DRAFT_KEY = 'cnlab-topology-draft';
  let persistTimer: ReturnType<typeof setTimeout> | null = null;
  watch(yamlText, (text) => {
    if (persistTimer) clearTimeout(persistTimer);
    persistTimer = setTimeout(() => {
      try {
        if (isEmpty.value) window.localStorage.removeItem(DRAFT_KEY);
        else window.localStorage.setItem(DRAFT_KEY, text);
      } catch {
        // Storage full or disabled: the draft lives on in the page only, as before.
      }
    }, YAML_DEBOUNCE_MS);
  });

  function restoreDraft(): void {
    let saved: string | null = null;
    try {
      saved = window.localStorage.getItem(DRAFT_KEY);
    } catch {
      saved = null;
    }
    if (saved) loadText(saved);
  }

  function scheduleHostCheck(): void {
    if (checkTimer) clearTimeout(checkTimer);
    checkSequence++;
    if (designProblems.value.length > 0) {
      hostProblems.value = [];
      return;
    }
    const sequence = checkSequence;
    checkTimer = setTimeout(() => void checkAgainstHosts(sequence), HOST_CHECK_DEBOUNCE_MS);
  }

  async function checkAgainstHosts(sequence: number): Promise<void> {
    checkTimer = null;
    try {
      const result = await useLabApi().checkTopology({ text: draftToYaml(draft.value) });
      if (sequence === checkSequence) hostProblems.value = result.problems;
    } catch (error) {
      if (sequence === checkSequence) hostProblems.value = [`could not check the topology against the hosts: ${error instanceof Error ? error.message : String(error)}`];
    }
  }

  /** Reads the YAML text now; a valid topology becomes the designer's model. */
  function commitYaml(): boolean {
    clearYamlTimer();
    const reading = readDraft(yamlText.value);
    if (!reading.ok) {
      yamlProblems.value = reading.problems;
      return false;
    }
    yamlProblems.value = [];
    draftFromText = true;
    draft.value = reading.draft;
    return true;
  }

  /** The editor's input: kept as typed (no reformatting under the caret), read back after a pause. */
  function setYamlText(text: string): void {
    yamlText.value = text;
    clearYamlTimer();
    yamlTimer = setTimeout(commitYaml, YAML_DEBOUNCE_MS);
  }

  /** The text the actions send: the editor's own when it is valid (comments kept), else the model's. */
  function currentText(): string {
    if (yamlTimer) commitYaml();
    return yamlProblems.value.length === 0 ? yamlText.value : draftToYaml(draft.value);
  }

  interface NamedText {
    name: string;
    text: string;
  }
  const autosave = useAutosave<NamedText>({
    source: () => (draft.value.name ? { name: draft.value.name, text: yamlText.value } : null),
    save: async (value) => {
      await useLabApi().saveTopology(value);
      if (!savedNames.value.includes(value.name)) await refreshSaved();
    },
    delayMs: () => useAppStore().workspace?.settings.autosaveMs ?? 1500,
    equals: (a, b) => a.name === b.name && a.text === b.text,
  });
  useAppStore().registerAutosave('topology', autosave);

  /** Replaces the whole topology with a file's text (open, demo). */
  function loadText(text: string): boolean {
    yamlText.value = text;
    textVersion.value++;
    return commitYaml();
  }

  function startNew(): void {
    draft.value = newDraft();
  }

  async function refreshSaved(): Promise<void> {
    savedNames.value = [...(await useLabApi().listTopologies())].sort();
  }

  async function open(name: string): Promise<void> {
    const saved = await useLabApi().readTopology({ name });
    loadText(saved.text);
    autosave.markSaved({ name, text: saved.text });
  }

  /** Saves under the topology's own name, so the file and the lab share it. */
  async function save(): Promise<string> {
    const name = draft.value.name;
    if (!name) throw new Error('give the topology a name before saving it (the "Name" field at the top of the designer)');
    saving.value = true;
    try {
      const text = currentText();
      await useLabApi().saveTopology({ name, text });
      if (text === yamlText.value) autosave.markSaved({ name, text });
      await refreshSaved();
      return name;
    } finally {
      saving.value = false;
    }
  }

  // ── designer edits ──────────────────────────────────────────────────────────────────────────────

  function setHostChosen(host: string, chosen: boolean): void {
    const hosts = draft.value.hosts.filter((name) => name !== host);
    draft.value.hosts = chosen ? [...hosts, host] : hosts;
  }

  function addNetwork(): void {
    draft.value.networks.push({ name: unusedName('net', draft.value.networks.map((network) => network.name)), mode: 'bridge' });
  }

  function removeNetwork(index: number): void {
    const removed = draft.value.networks[index];
    if (!removed) return;
    draft.value.networks.splice(index, 1);
    for (const container of draft.value.containers) if (container.networks) container.networks = container.networks.filter((name) => name !== removed.name);
  }

  /** Containers follow a renamed network, so renaming never leaves them pointing at nothing. */
  function renameNetwork(index: number, name: string): void {
    const network = draft.value.networks[index];
    if (!network) return;
    const previous = network.name;
    network.name = name;
    for (const container of draft.value.containers) if (container.networks) container.networks = container.networks.map((entry) => (entry === previous ? name : entry));
  }

  /** Options belong to one mode (the schema is strict), so a new mode starts from its defaults. */
  function setNetworkMode(index: number, mode: NetworkMode): void {
    const network = draft.value.networks[index];
    if (!network || network.mode === mode) return;
    network.mode = mode;
    delete network.options;
  }

  function setNetworkOption(index: number, option: string, value: unknown): void {
    const network = draft.value.networks[index];
    if (!network) return;
    const options = { ...network.options };
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) delete options[option];
    else options[option] = value;
    network.options = options;
  }

  function addContainer(): void {
    const container: ContainerDraft = { name: unusedName('c', draft.value.containers.map((entry) => entry.name)), host: draft.value.hosts[0] ?? '', networks: [] };
    draft.value.containers.push(container);
  }

  function removeContainer(index: number): void {
    draft.value.containers.splice(index, 1);
  }

  function setContainerNetwork(index: number, network: string, attached: boolean): void {
    const container = draft.value.containers[index];
    if (!container) return;
    const networks = (container.networks ?? []).filter((name) => name !== network);
    // Kept in the order of the networks list, so the YAML does not depend on the order of the clicks.
    const order = draft.value.networks.map((entry) => entry.name);
    container.networks = attached ? [...networks, network].sort((a, b) => order.indexOf(a) - order.indexOf(b)) : networks;
  }

  function setContainerCount(index: number, count: number | undefined): void {
    const container = draft.value.containers[index];
    if (!container) return;
    if (count === undefined) delete container.count;
    else container.count = count;
  }

  /** Dragged diagram positions, saved with the topology (the planner ignores them). */
  function setLayout(layout: DiagramLayout): void {
    draft.value.layout = layout;
  }

  function setField(field: 'name' | 'addressPool' | 'backend' | 'runtime', value: string): void {
    if (value === '' && field !== 'name') delete draft.value[field];
    else if (field === 'backend') draft.value.backend = value === 'cni' ? 'cni' : 'iproute2';
    // netns is the default: left out of the file, as a hand-written one would.
    else if (field === 'runtime') {
      if (value === 'docker') draft.value.runtime = 'docker';
      else delete draft.value.runtime;
    }
    else draft.value[field] = value;
  }

  restoreDraft();

  return {
    draft,
    isEmpty,
    yamlText,
    yamlProblems,
    hostProblems,
    designProblems,
    problems,
    canRun,
    savedNames,
    saving,
    textVersion,
    setYamlText,
    commitYaml,
    currentText,
    loadText,
    startNew,
    refreshSaved,
    open,
    save,
    setHostChosen,
    addNetwork,
    removeNetwork,
    renameNetwork,
    setNetworkMode,
    setNetworkOption,
    addContainer,
    removeContainer,
    setContainerNetwork,
    setContainerCount,
    setLayout,
    setField,
  };
});
