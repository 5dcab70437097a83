// The log drawer loads the recent log when opened, shows each command's exit code, narrows rows by host
// and lab, and opens a command's full text on click.
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CommandLogEntry } from '@contract/lab-api';
import { setLabApi } from '../../api/lab-client';
import { createFakeLabApi, type FakeLabApi } from '../../test-support/fake-lab-api';
import { useCommandLogStore } from '../../stores/command-log-store';
import LogDrawer from './LogDrawer.vue';

function entry(seq: number, host: string, lab: string | null, exitCode: number | null): CommandLogEntry {
  return { seq, startedAt: '2026-11-22T08:00:00.000Z', host, lab, summary: `ip link show # ${seq}`, text: `set -e\nip link show # ${seq}`, exitCode, durationMs: 7 };
}

let api: FakeLabApi;

beforeEach(() => {
  setActivePinia(createPinia());
  api = createFakeLabApi({ getCommandLog: () => Promise.resolve([entry(3, 'node2', 'lab2', 1), entry(2, 'node1', 'lab1', 0), entry(1, 'node1', null, null)]) });
  setLabApi(api);
});

describe('log drawer', () => {
  it('loads the recent log on open and marks exit codes', async () => {
    const drawer = mount(LogDrawer);
    await flushPromises();
    expect(api.getCommandLog).toHaveBeenCalledWith({ limit: 500 });
    expect(drawer.findAll('[data-testid=log-row]').map((row) => row.attributes('data-exit'))).toEqual(['1', '0', 'none']);
  });

  it('filters rows by host and by lab', async () => {
    const drawer = mount(LogDrawer);
    await flushPromises();
    await drawer.get('[data-testid=log-filter-host]').setValue('node1');
    expect(drawer.findAll('[data-testid=log-row]')).toHaveLength(2);
    await drawer.get('[data-testid=log-filter-lab]').setValue('lab1');
    const rows = drawer.findAll('[data-testid=log-row]');
    expect(rows).toHaveLength(1);
    expect(rows[0]?.text()).toContain('# 2');
    await drawer.get('[data-testid=log-filter-host]').setValue('');
    await drawer.get('[data-testid=log-filter-lab]').setValue('lab2');
    expect(drawer.findAll('[data-testid=log-row]').map((row) => row.text())).toEqual([expect.stringContaining('node2')]);
  });

  it('appends streamed commands and shows a row’s full text on click', async () => {
    const drawer = mount(LogDrawer);
    await flushPromises();
    useCommandLogStore().applyEvent({ type: 'command', entry: entry(4, 'node1', 'lab1', 0) });
    await flushPromises();
    const rows = drawer.findAll('[data-testid=log-row]');
    expect(rows).toHaveLength(4);
    await rows[0]?.trigger('click');
    expect(drawer.get('[data-testid=log-detail] pre').text()).toBe('set -e\nip link show # 4');
  });
});
