// Test double of the LabApi for renderer unit tests only (stores and components); the end-to-end tests
// drive the real backend. Every request rejects unless the test gives it an implementation.
import { vi, type Mock } from 'vitest';
import { LAB_API_METHODS, LabApiError, type LabApi, type LabApiEvent, type LabApiRequests, type WorkspaceInfo } from '@contract/lab-api';

/** A workspace as getWorkspaceInfo answers for a fresh one. */
export function workspaceInfo(dir = '/srv/lab1', fields: Partial<WorkspaceInfo> = {}): WorkspaceInfo {
  return { dir, hostCount: 0, topologies: [], experiments: [], settings: { autosaveMs: 1500 }, upgrade: null, ...fields };
}

export type FakeLabApi = { [K in keyof LabApiRequests]: Mock<LabApiRequests[K]> } & {
  onEvent: LabApi['onEvent'];
  /** Delivers an event to every subscriber, as the server would. */
  emit(event: LabApiEvent): void;
  listenerCount(): number;
};

export function createFakeLabApi(implementations: Partial<LabApiRequests> = {}): FakeLabApi {
  const listeners = new Set<(event: LabApiEvent) => void>();
  const fake: Record<string, unknown> = {
    onEvent(listener: (event: LabApiEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event: LabApiEvent) {
      for (const listener of listeners) listener(event);
    },
    listenerCount: () => listeners.size,
  };
  for (const method of LAB_API_METHODS) {
    const implementation = implementations[method] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    fake[method] = vi.fn(implementation ?? (() => Promise.reject(new LabApiError({ code: 'internal', message: `fake LabApi: ${method} is not stubbed in this test` }))));
  }
  return fake as unknown as FakeLabApi;
}
