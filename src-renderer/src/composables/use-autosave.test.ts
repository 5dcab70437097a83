// The autosave composable with fake timers: one save after the last change, none for an unchanged or
// unnamed document, a failure kept visible and retried, edits during a save saved after it, flush at once,
// and no timer left once the scope is gone.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { effectScope, nextTick, ref } from 'vue';
import { useAutosave } from './use-autosave';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup(initial: string | null = null) {
  const text = ref<string | null>(initial);
  const writes: string[] = [];
  let fail: Error | null = null;
  let release: (() => void) | null = null;
  let hold = false;
  const save = vi.fn(async (value: string) => {
    if (hold) await new Promise<void>((resolve) => (release = resolve));
    if (fail) throw fail;
    writes.push(value);
  });
  const scope = effectScope();
  const autosave = scope.run(() => useAutosave({ source: () => text.value, save, delayMs: () => 1000 }))!;
  return {
    text,
    writes,
    save,
    scope,
    autosave,
    failWith: (error: Error | null) => (fail = error),
    holdSaves: () => (hold = true),
    releaseSave: () => {
      hold = false;
      release?.();
    },
  };
}

describe('useAutosave', () => {
  it('saves once, the delay after the last change', async () => {
    const { text, writes, autosave } = setup();
    text.value = 'a';
    await nextTick();
    expect(autosave.state.value).toBe('dirty');
    await vi.advanceTimersByTimeAsync(600);
    text.value = 'ab';
    await nextTick();
    await vi.advanceTimersByTimeAsync(600);
    expect(writes).toEqual([]);
    await vi.advanceTimersByTimeAsync(400);
    expect(writes).toEqual(['ab']);
    expect(autosave.state.value).toBe('saved');
    expect(autosave.lastSavedAt.value).not.toBeNull();
  });

  it('does not save what is already saved, nor a document with nothing to save', async () => {
    const { text, save, autosave } = setup();
    autosave.markSaved('opened');
    text.value = 'opened';
    await nextTick();
    expect(autosave.state.value).toBe('saved');
    text.value = null;
    await nextTick();
    await vi.advanceTimersByTimeAsync(5000);
    expect(save).not.toHaveBeenCalled();
  });

  it('keeps a failure visible, and the next change saves again', async () => {
    const { text, writes, autosave, failWith } = setup();
    failWith(new Error('disk full: free some space'));
    text.value = 'x';
    await nextTick();
    await vi.advanceTimersByTimeAsync(1000);
    expect(autosave.state.value).toBe('failed');
    expect(autosave.error.value).toBe('disk full: free some space');
    failWith(null);
    text.value = 'xy';
    await nextTick();
    expect(autosave.state.value).toBe('dirty');
    await vi.advanceTimersByTimeAsync(1000);
    expect(writes).toEqual(['xy']);
    expect(autosave.error.value).toBeNull();
  });

  it('saves edits made during a save after that save, and flush saves at once', async () => {
    const { text, writes, autosave, holdSaves, releaseSave } = setup();
    holdSaves();
    text.value = 'one';
    await nextTick();
    await vi.advanceTimersByTimeAsync(1000);
    expect(autosave.state.value).toBe('saving');
    text.value = 'two';
    await nextTick();
    releaseSave();
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual(['one']);
    expect(autosave.state.value).toBe('dirty');
    await autosave.flush();
    expect(writes).toEqual(['one', 'two']);
    expect(autosave.state.value).toBe('saved');
  });

  it('leaves no timer behind when its scope is disposed', async () => {
    const { text, save, scope } = setup();
    text.value = 'late';
    await nextTick();
    scope.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(save).not.toHaveBeenCalled();
  });
});
