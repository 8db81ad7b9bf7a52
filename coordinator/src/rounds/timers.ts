/**
 * One timer per federation (its round deadline, or a retry after an error); setting a new one replaces the
 * old. After {@link FederationTimers.close} nothing is scheduled any more.
 */
export class FederationTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private closed = false;

  /** Runs `fn` after `delayMs` (clamped to what setTimeout accepts) unless replaced or cleared first. */
  set(federationId: string, delayMs: number, fn: () => void): void {
    this.clear(federationId);
    if (this.closed) return;
    const timer = setTimeout(
      () => {
        if (this.timers.get(federationId) === timer) this.timers.delete(federationId);
        fn();
      },
      Math.min(Math.max(0, delayMs), 2 ** 31 - 1),
    );
    this.timers.set(federationId, timer);
  }

  clear(federationId: string): void {
    const t = this.timers.get(federationId);
    if (t) clearTimeout(t);
    this.timers.delete(federationId);
  }

  /** True when a timer is pending for the federation. */
  has(federationId: string): boolean {
    return this.timers.has(federationId);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
