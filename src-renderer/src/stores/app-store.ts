// The console's shell state: which tab shows, the theme, the log drawer, app and workspace info, the demo
// lab, the workspace's save state (every autosaving area reports in; Save flushes them all), and the
// requests other views watch (open the demo topology) from menu and jobs.
import { defineStore } from 'pinia';
import { computed, ref, shallowReactive, watch } from 'vue';
import type { AppInfo, LabApiEvent, MenuAction, WorkspaceInfo } from '@contract/lab-api';
import type { Autosave, SaveState } from '../composables/use-autosave';
import { useLabApi } from '../api/lab-client';
import type { ThemeName } from '../styles/palette';
import { useCommandLogStore } from './command-log-store';
import { useHostsStore } from './hosts-store';
import { useJobsStore } from './jobs-store';

export type AppTab = 'hosts' | 'topology' | 'experiments' | 'results';

/** The tabs in order, as the top bar shows them (Alt+1 … Alt+4). */
export const APP_TABS: readonly { tab: AppTab; label: string }[] = [
  { tab: 'hosts', label: 'Hosts' },
  { tab: 'topology', label: 'Topology' },
  { tab: 'experiments', label: 'Experiments' },
  { tab: 'results', label: 'Results' },
];

const MENU_TABS: Partial<Record<MenuAction, AppTab>> = { 'show-hosts': 'hosts', 'show-topology': 'topology', 'show-experiments': 'experiments', 'show-results': 'results' };

export const THEME_STORAGE_KEY = 'cnlab-theme';

export type WorkspaceDialogMode = 'new' | 'open' | 'save-as';
const WORKSPACE_DIALOGS: Partial<Record<MenuAction, WorkspaceDialogMode>> = { 'new-workspace': 'new', 'open-workspace': 'open', 'save-workspace-as': 'save-as' };

/** The remembered theme, else the system's preference. */
export function initialTheme(): ThemeName {
  const stored = safeStorage()?.getItem(THEME_STORAGE_KEY);
  if (stored === 'light' || stored === 'dark') return stored;
  return typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

// Storage can throw (disabled cookies, sandboxed frames); the theme then simply is not remembered.
function safeStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** Until the user picks a theme, the console follows the system's light/dark switch as it happens. */
function followSystemScheme(onChange: (dark: boolean) => void): void {
  if (typeof window.matchMedia !== 'function') return;
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener?.('change', (event) => onChange(event.matches));
}

export const useAppStore = defineStore('app', () => {
  const tab = ref<AppTab>('hosts');
  const theme = ref<ThemeName>(initialTheme());
  const logOpen = ref(false);
  const helpOpen = ref(false);
  /** The folder dialog (the same in Electron and browser mode): null when closed. */
  const workspaceDialog = ref<{ mode: WorkspaceDialogMode } | null>(null);
  const appInfo = ref<AppInfo | null>(null);
  const workspace = ref<WorkspaceInfo | null>(null);
  /** Shown once after opening upgraded an older workspace.yaml, until dismissed. */
  const upgradeNotice = ref<string | null>(null);
  // Shallow: each autosave's own refs carry the reactivity (a deep Map would unwrap them).
  const autosaves = shallowReactive(new Map<string, Autosave<never>>());
  /** Set when the demo lab has started: the Topology view opens this text, then calls clearDemoTopology. */
  const demoTopology = ref<{ name: string; text: string } | null>(null);
  /** Bumped on each "Save workspace" request (menu, Ctrl/Cmd+S) after the autosaves were flushed. */
  const saveRequests = ref(0);

  /** Where the workspace's unsaved work stands, over every area that autosaves. */
  const saveState = computed<{ state: SaveState; error: string | null }>(() => {
    const areas = [...autosaves.values()];
    const failed = areas.find((entry) => entry.state.value === 'failed');
    if (failed) return { state: 'failed', error: failed.error.value };
    if (areas.some((entry) => entry.state.value === 'saving')) return { state: 'saving', error: null };
    if (areas.some((entry) => entry.state.value === 'dirty')) return { state: 'dirty', error: null };
    return { state: 'saved', error: null };
  });

  // The window title says so too (Electron shows it; a browser tab as well): "• cnlab — lab1".
  watch([saveState, workspace], ([save, info]) => {
    const name = info?.dir.split('/').filter(Boolean).at(-1) ?? '';
    document.title = `${save.state === 'saved' ? '' : '• '}cnlab${name ? ` — ${name}` : ''}`;
  });

  // Autosave<never>: any autosave fits (the registry only reads state and flushes), with no cast at the call.
  function registerAutosave(area: string, autosave: Autosave<never>): void {
    autosaves.set(area, autosave);
  }

  /** Saves every pending change now (menu Save, Ctrl/Cmd+S). */
  async function saveAll(): Promise<void> {
    await Promise.all([...autosaves.values()].map((entry) => entry.flush()));
    saveRequests.value++;
  }
  /** Bumped on each workspace change, for views that keep their own data (topologies, labs). */
  const workspaceVersion = ref(0);

  watch(theme, (value) => (document.documentElement.dataset.theme = value), { immediate: true });
  followSystemScheme((dark) => {
    if (!safeStorage()?.getItem(THEME_STORAGE_KEY)) theme.value = dark ? 'dark' : 'light';
  });

  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark';
    safeStorage()?.setItem(THEME_STORAGE_KEY, theme.value);
  }

  function toggleLog(): void {
    logOpen.value = !logOpen.value;
  }

  function show(next: AppTab): void {
    tab.value = next;
  }

  async function loadInfo(): Promise<void> {
    const api = useLabApi();
    const [app, info] = await Promise.all([api.getAppInfo(), api.getWorkspaceInfo()]);
    appInfo.value = app;
    workspace.value = info;
    if (info.upgrade) upgradeNotice.value = `${info.dir} was upgraded from workspace format ${info.upgrade.from}; the original file is kept as ${info.upgrade.backupFile}.`;
  }

  async function startDemo(): Promise<void> {
    useJobsStore().track(await useLabApi().startDemoLab(), 'Starting demo lab');
  }

  async function stopDemo(): Promise<void> {
    useJobsStore().track(await useLabApi().stopDemoLab(), 'Stopping demo lab');
  }

  async function openWorkspace(dir: string, create: boolean): Promise<void> {
    // What was typed in this workspace is saved there before the switch.
    await saveAll();
    await useLabApi().openWorkspace({ dir, create });
    workspaceDialog.value = null;
    await reloadAll();
  }

  /** Copies the workspace (saved first) to a new folder and continues in the copy. */
  async function saveWorkspaceAs(dir: string): Promise<void> {
    await saveAll();
    await useLabApi().saveWorkspaceAs({ dir });
    workspaceDialog.value = null;
    await reloadAll();
  }

  async function reloadAll(): Promise<void> {
    workspaceVersion.value++;
    const log = useCommandLogStore();
    log.reset();
    await Promise.all([loadInfo(), useHostsStore().load(), logOpen.value ? log.load() : Promise.resolve()]);
  }

  function clearDemoTopology(): void {
    demoTopology.value = null;
  }

  function runMenuAction(action: MenuAction): void {
    const menuTab = MENU_TABS[action];
    if (menuTab) show(menuTab);
    else if (action === 'toggle-log') toggleLog();
    else if (action === 'toggle-theme') toggleTheme();
    else if (action === 'save-workspace') void saveAll().catch(() => undefined);
    else workspaceDialog.value = { mode: WORKSPACE_DIALOGS[action] ?? 'open' };
  }

  // Failures of these background reloads surface at the next user action; there is no caller to tell.
  function applyEvent(event: LabApiEvent): void {
    if (event.type === 'menu') runMenuAction(event.action);
    else if (event.type === 'workspace-changed') reloadAll().catch(() => undefined);
    else if (event.type === 'job-finished' && event.outcome === 'succeeded') {
      if (event.result?.kind === 'demo-start') {
        demoTopology.value = { name: event.result.demo.topologyName, text: event.result.demo.topologyText };
        show('topology');
      }
      if (event.kind === 'demo-start' || event.kind === 'demo-stop') {
        useHostsStore().load().catch(() => undefined);
        loadInfo().catch(() => undefined);
      }
    }
  }

  return {
    tab,
    theme,
    logOpen,
    helpOpen,
    workspaceDialog,
    appInfo,
    workspace,
    upgradeNotice,
    saveState,
    registerAutosave,
    saveAll,
    saveWorkspaceAs,
    demoTopology,
    saveRequests,
    workspaceVersion,
    toggleTheme,
    toggleLog,
    show,
    loadInfo,
    startDemo,
    stopDemo,
    openWorkspace,
    reloadAll,
    clearDemoTopology,
    runMenuAction,
    applyEvent,
  };
});
