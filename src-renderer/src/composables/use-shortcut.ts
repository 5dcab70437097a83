// Keyboard shortcuts as a composable: a key, a chord ("mod+shift+l") or a sequence ("g h") calls a handler;
// typing in a text field never triggers one, and the listener goes away with the calling scope.
import { getCurrentScope, onScopeDispose, shallowReactive, toValue, type MaybeRefOrGetter } from 'vue';

export interface ShortcutOptions {
  /** Also fire while the focus is in an input, textarea, select or editable element. Default false. */
  allowInInputs?: boolean;
  /** Stop the browser's own action for the key (Ctrl+L focuses the address bar). Default true. */
  preventDefault?: boolean;
  /** The shortcut only fires while this is true (a ref or getter follows changes). Default always. */
  enabled?: MaybeRefOrGetter<boolean>;
  /** Where to listen. Default window. */
  target?: EventTarget;
  /** Milliseconds allowed between the keys of a sequence such as "g h". Default 1000. */
  sequenceTimeoutMs?: number;
  /** What the shortcut does, in a few words: lists it in the "?" help overlay while it is bound. */
  help?: string;
}

/** Shortcuts bound right now that asked to be listed in the help overlay. */
export const describedShortcuts = shallowReactive(new Map<symbol, { keys: string; action: string }>());

/** "mod+shift+enter" → "Ctrl/Cmd+Shift+Enter"; "g h" → "G then H". */
export function formatKeys(keys: string): string {
  const word = (part: string) => (part === 'mod' ? 'Ctrl/Cmd' : part.length === 1 ? part.toUpperCase() : part.charAt(0).toUpperCase() + part.slice(1));
  return keys
    .trim()
    .split(/\s+/)
    .map((chord) => chord.split('+').map(word).join('+'))
    .join(' then ');
}

interface Chord {
  key: string;
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
  meta: boolean;
  /** "mod": Cmd on macOS, Ctrl elsewhere; either is accepted so one binding serves both. */
  mod: boolean;
}

/** Parses "mod+shift+l", "alt+1", "?" or "escape"; "+" alone is written "plus". */
export function parseChord(text: string): Chord {
  const parts = text.toLowerCase().split('+').map((part) => part.trim());
  const key = parts.pop() ?? '';
  const has = (name: string) => parts.includes(name);
  return { key: key === 'plus' ? '+' : key, ctrl: has('ctrl'), alt: has('alt'), shift: has('shift'), meta: has('meta') || has('cmd'), mod: has('mod') };
}

function keyMatches(chordKey: string, event: KeyboardEvent): boolean {
  if (event.key.toLowerCase() === chordKey) return true;
  // Alt (Option on macOS) changes event.key ("¡" for Alt+1): fall back to the physical key.
  if (/^[0-9]$/.test(chordKey)) return event.code === `Digit${chordKey}`;
  if (/^[a-z]$/.test(chordKey)) return event.code === `Key${chordKey.toUpperCase()}`;
  return false;
}

export function chordMatches(chord: Chord, event: KeyboardEvent): boolean {
  if (!keyMatches(chord.key, event)) return false;
  const wantCtrl = chord.ctrl || (chord.mod && !event.metaKey);
  const wantMeta = chord.meta || (chord.mod && event.metaKey);
  if (event.ctrlKey !== wantCtrl || event.metaKey !== wantMeta || event.altKey !== chord.alt) return false;
  // Symbols such as "?" need Shift on most layouts: only letters, digits and named keys check it.
  const shiftMatters = /^[a-z0-9]$/.test(chord.key) || chord.key.length > 1;
  return !shiftMatters || event.shiftKey === chord.shift;
}

export function isTyping(target: EventTarget | null): boolean {
  if (!target || !(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

/**
 * Calls `handler` when any of `keys` is pressed. Each entry is a chord or a space-separated sequence of
 * chords: `useShortcut(['g h', 'alt+1'], showHosts)`. Returns a stop function; it also stops on scope dispose.
 */
export function useShortcut(keys: string | string[], handler: (event: KeyboardEvent) => void, options: ShortcutOptions = {}): () => void {
  const { allowInInputs = false, preventDefault = true, enabled = true, target = window, sequenceTimeoutMs = 1000 } = options;
  const sequences = (Array.isArray(keys) ? keys : [keys]).map((entry) => entry.trim().split(/\s+/).map(parseChord));
  const progress = sequences.map(() => ({ index: 0, at: 0 }));

  const listener = (raw: Event) => {
    const event = raw as KeyboardEvent;
    if (event.repeat || !toValue(enabled)) return;
    if (!allowInInputs && isTyping(event.target)) return;
    if (['Shift', 'Control', 'Alt', 'Meta'].includes(event.key)) return;
    sequences.forEach((sequence, which) => {
      const state = progress[which];
      if (!state) return;
      if (state.index > 0 && event.timeStamp - state.at > sequenceTimeoutMs) state.index = 0;
      let chord = sequence[state.index];
      if (chord && !chordMatches(chord, event)) {
        state.index = 0;
        chord = sequence[0];
      }
      if (!chord || !chordMatches(chord, event)) return;
      state.index++;
      state.at = event.timeStamp;
      if (state.index < sequence.length) return;
      state.index = 0;
      if (preventDefault) event.preventDefault();
      handler(event);
    });
  };

  target.addEventListener('keydown', listener);
  const id = Symbol('shortcut');
  if (options.help) describedShortcuts.set(id, { keys: (Array.isArray(keys) ? keys : [keys]).map(formatKeys).join('  ·  '), action: options.help });
  const stop = () => {
    target.removeEventListener('keydown', listener);
    describedShortcuts.delete(id);
  };
  if (getCurrentScope()) onScopeDispose(stop);
  return stop;
}
