// A counting semaphore: caps concurrent SSH channels per connection below sshd's MaxSessions (10).
// The cap can shrink at run time when a host turns out to allow fewer sessions than assumed.
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private limit: number) {}

  get inUse(): number {
    return this.active;
  }

  /** Lowers the cap (never below 1); slots already handed out stay valid until released. */
  shrinkTo(limit: number): void {
    this.limit = Math.max(1, Math.min(this.limit, limit));
  }

  async acquire(): Promise<() => void> {
    while (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
      this.waiting.shift()?.();
    };
  }
}
