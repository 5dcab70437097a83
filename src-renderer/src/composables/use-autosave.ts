// Saves a value a while after its last change (the workspace's autosave delay), one save at a time, and
// says where it stands: saved, dirty (a change waits), saving, failed (kept dirty; the next change or a
// flush tries again). Ctrl/Cmd+S flushes at once. The timer is released when the calling scope is disposed.
import { onScopeDispose, ref, watch, type Ref } from 'vue';

export type SaveState = 'saved' | 'dirty' | 'saving' | 'failed';

export interface AutosaveOptions<T> {
  /** The value to save, or null while there is nothing to save (e.g. a design without a name yet). */
  source: () => T | null;
  /** Writes a value; resolving marks that value saved. */
  save: (value: T) => Promise<void>;
  /** Milliseconds to wait after the last change; read at each change, so a new setting applies at once. */
  delayMs: () => number;
  /** Whether two values are the same document (default: ===). */
  equals?: (a: T, b: T) => boolean;
}

export interface Autosave<T> {
  state: Ref<SaveState>;
  /** Why the last save failed, in the words of the error; null otherwise. */
  error: Ref<string | null>;
  lastSavedAt: Ref<number | null>;
  /** Saves a pending change now (and waits for a save in flight). */
  flush: () => Promise<void>;
  /** Records a value as already saved (just opened or saved by other means): no save follows. */
  markSaved: (value: T | null) => void;
}

export function useAutosave<T>(options: AutosaveOptions<T>): Autosave<T> {
  const equals = options.equals ?? ((a: T, b: T) => a === b);
  const state = ref<SaveState>('saved');
  const error = ref<string | null>(null);
  const lastSavedAt = ref<number | null>(null);
  let saved: T | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let inFlight: Promise<void> | null = null;

  const pending = (): T | null => {
    const value = options.source();
    return value !== null && (saved === null || !equals(value, saved)) ? value : null;
  };

  function clearTimer(): void {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  function schedule(): void {
    clearTimer();
    if (pending() === null) {
      if (!inFlight && state.value !== 'failed') state.value = 'saved';
      return;
    }
    if (!inFlight) state.value = 'dirty';
    timer = setTimeout(() => void saveNow(), options.delayMs());
  }

  async function saveNow(): Promise<void> {
    clearTimer();
    if (inFlight) await inFlight;
    const value = pending();
    if (value === null) {
      if (state.value !== 'failed') state.value = 'saved';
      return;
    }
    state.value = 'saving';
    inFlight = options.save(value).then(
      () => {
        saved = value;
        error.value = null;
        lastSavedAt.value = Date.now();
        state.value = 'saved';
      },
      (failure: unknown) => {
        error.value = failure instanceof Error ? failure.message : String(failure);
        state.value = 'failed';
      },
    );
    await inFlight;
    inFlight = null;
    // Edits made while saving: they get their own save after the delay.
    if ((state.value as SaveState) === 'saved' && pending() !== null) schedule();
  }

  watch(options.source, schedule);
  onScopeDispose(clearTimer);

  return {
    state,
    error,
    lastSavedAt,
    flush: saveNow,
    markSaved(value) {
      clearTimer();
      saved = value;
      error.value = null;
      state.value = 'saved';
    },
  };
}
