// useShortcut fires on chords and sequences, stays quiet while the user types in a field, honours
// `enabled`, and removes its listener when the owning scope (component) goes away.
import { mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, effectScope, h, ref } from 'vue';
import { describedShortcuts, formatKeys, useShortcut } from './use-shortcut';

function press(key: string, init: KeyboardEventInit = {}, target: EventTarget = window): KeyboardEvent {
  const event = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init });
  target.dispatchEvent(event);
  return event;
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('useShortcut', () => {
  it('fires on a modifier chord and prevents the browser default', () => {
    const handler = vi.fn();
    const scope = effectScope();
    scope.run(() => useShortcut('mod+shift+l', handler));
    press('l', { ctrlKey: true });
    expect(handler).not.toHaveBeenCalled();
    const event = press('L', { ctrlKey: true, shiftKey: true });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(event.defaultPrevented).toBe(true);
    press('L', { metaKey: true, shiftKey: true });
    expect(handler).toHaveBeenCalledTimes(2);
    scope.stop();
  });

  it('fires on a two-key sequence only when the keys come in order', () => {
    const handler = vi.fn();
    const scope = effectScope();
    scope.run(() => useShortcut('g h', handler));
    press('h');
    press('g');
    press('x');
    press('h');
    expect(handler).not.toHaveBeenCalled();
    press('g');
    press('h');
    expect(handler).toHaveBeenCalledTimes(1);
    scope.stop();
  });

  it('matches Alt+digit by the physical key, as macOS changes the character', () => {
    const handler = vi.fn();
    const scope = effectScope();
    scope.run(() => useShortcut('alt+1', handler));
    press('¡', { altKey: true, code: 'Digit1' });
    expect(handler).toHaveBeenCalledTimes(1);
    scope.stop();
  });

  it('ignores keys typed into inputs and textareas unless allowed', () => {
    const handler = vi.fn();
    const allowed = vi.fn();
    const scope = effectScope();
    scope.run(() => {
      useShortcut('?', handler);
      useShortcut('escape', allowed, { allowInInputs: true });
    });
    const input = document.body.appendChild(document.createElement('input'));
    const textarea = document.body.appendChild(document.createElement('textarea'));
    press('?', { shiftKey: true }, input);
    press('?', { shiftKey: true }, textarea);
    expect(handler).not.toHaveBeenCalled();
    press('Escape', {}, input);
    expect(allowed).toHaveBeenCalledTimes(1);
    press('?', { shiftKey: true }, document.body);
    expect(handler).toHaveBeenCalledTimes(1);
    scope.stop();
  });

  it('fires only while enabled', () => {
    const handler = vi.fn();
    const enabled = ref(false);
    const scope = effectScope();
    scope.run(() => useShortcut('escape', handler, { enabled }));
    press('Escape');
    enabled.value = true;
    press('Escape');
    expect(handler).toHaveBeenCalledTimes(1);
    scope.stop();
  });

  it('stops listening when the component that registered it unmounts', () => {
    const handler = vi.fn();
    const remove = vi.spyOn(window, 'removeEventListener');
    const Owner = defineComponent({
      setup() {
        useShortcut('alt+2', handler);
        return () => h('div');
      },
    });
    const wrapper = mount(Owner);
    press('2', { altKey: true });
    wrapper.unmount();
    press('2', { altKey: true });
    expect(handler).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledWith('keydown', expect.any(Function));
    remove.mockRestore();
  });

  it('lists a shortcut with a help text while it is bound', () => {
    const scope = effectScope();
    scope.run(() => useShortcut('mod+enter', vi.fn(), { help: 'Apply the topology' }));
    expect([...describedShortcuts.values()]).toEqual([{ keys: 'Ctrl/Cmd+Enter', action: 'Apply the topology' }]);
    scope.stop();
    expect(describedShortcuts.size).toBe(0);
    expect(formatKeys('g h')).toBe('G then H');
  });
});
