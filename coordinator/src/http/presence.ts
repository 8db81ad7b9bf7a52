import type { Store } from '../store';

/**
 * Records that a site was seen (a signed request, a socket handshake or status) as its `lastSeenAt`, writing
 * to the store at most once per `intervalMs` per site: every write is a durable transaction, and at hundreds
 * of sites one per request would dominate the coordinator's work. `lastSeenAt` may therefore lag by up to
 * `intervalMs`.
 */
export class Presence {
  private readonly written = new Map<string, number>();

  constructor(private readonly opts: { store: Store; now: () => number; intervalMs?: number }) {}

  /** Notes that `siteId` was seen now. */
  async seen(siteId: string): Promise<void> {
    const now = this.opts.now();
    const last = this.written.get(siteId);
    if (last !== undefined && now - last < (this.opts.intervalMs ?? 5000)) return;
    this.written.set(siteId, now);
    await this.opts.store.touchSite(siteId, new Date(now).toISOString());
  }
}
