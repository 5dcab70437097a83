// Streams LabApi events to subscribers in batches: at most one message per interval (10 a second by
// default), however fast jobs produce events, so 200 containers changing state cost the page ~10 renders.

import type { LabApiEvent } from '../contract/lab-api';

export type EventBatchListener = (batch: LabApiEvent[]) => void;

export interface EventBatcherOptions {
  /** Minimum time between two batches to the same subscribers (default 100 ms: ≤ 10 messages a second). */
  intervalMs?: number;
}

export class EventBatcher {
  private readonly listeners = new Set<EventBatchListener>();
  private pending: LabApiEvent[] = [];
  private timer: NodeJS.Timeout | null = null;
  private lastFlush = 0;
  private readonly intervalMs: number;

  constructor(options: EventBatcherOptions = {}) {
    this.intervalMs = options.intervalMs ?? 100;
  }

  subscribe(listener: EventBatchListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(event: LabApiEvent): void {
    this.pending.push(event);
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Sends what is pending now (also used at shutdown so the last events are not lost). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    for (const listener of this.listeners) {
      try {
        listener(batch);
      } catch {
        // A broken subscriber (a closed window or socket) must not stop the others.
      }
    }
  }

  close(): void {
    this.flush();
    this.listeners.clear();
  }
}
