// The shell's own shortcuts (tabs, log drawer, theme, help); the Topology view adds its own with useShortcut.
// The list is data so the help overlay shows exactly what is bound.
import { useAppStore } from '../stores/app-store';
import { useShortcut } from './use-shortcut';

export interface ShortcutHelp {
  keys: string;
  action: string;
}

export const APP_SHORTCUTS: ShortcutHelp[] = [
  { keys: 'G then H  ·  Alt+1', action: 'Show Hosts' },
  { keys: 'Alt+2', action: 'Show Topology' },
  { keys: 'Alt+3', action: 'Show Experiments' },
  { keys: 'Alt+4', action: 'Show Results' },
  { keys: 'Ctrl/Cmd+L', action: 'Show or hide the command log' },
  { keys: 'Ctrl/Cmd+Shift+L', action: 'Switch light / dark theme' },
  { keys: '?', action: 'Show this help' },
  { keys: 'Esc', action: 'Close a dialog or this help' },
];

export function useAppShortcuts(): void {
  const app = useAppStore();
  useShortcut(['g h', 'alt+1'], () => app.show('hosts'));
  useShortcut('alt+2', () => app.show('topology'));
  useShortcut('alt+3', () => app.show('experiments'));
  useShortcut('alt+4', () => app.show('results'));
  useShortcut('mod+l', () => app.toggleLog());
  useShortcut('mod+shift+l', () => app.toggleTheme());
  useShortcut('?', () => (app.helpOpen = !app.helpOpen));
  useShortcut('escape', () => (app.helpOpen = false), { enabled: () => app.helpOpen, allowInInputs: true });
}
