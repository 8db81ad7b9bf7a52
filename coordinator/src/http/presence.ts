import type { Store } from '../store';

/**
 * Records that a site was seen (a signed request, a socket handshake or status) as its `lastSeenAt`, writing
 * to the store at most once per `intervalMs` per site: every write is a durable transaction, and at hundreds
 * of sites one per request would dominate the coordinator's work. The stored value may lag by up to
 * `intervalMs`; {@link Presence.lastSeen} has the exact time since this process started.
 */
export class Presence {
  private readonly written = new Map<string, number>();
  private readonly seenAt = new Map<string, number>();

  /** When this process last saw the site (ISO), or null. */
  lastSeen(siteId: string): string | null {
    const t = this.seenAt.get(siteId);
    return t === undefined ? null : new Date(t).toISOString();
  }

  constructor(private readonly opts: { store: Store; now: () => number; intervalMs?: number }) {}

  /** Notes that `siteId` was seen now. */
  async seen(siteId: string): Promise<void> {
    const at = this.due(siteId);
    if (at !== undefined) await this.opts.store.touchSite(siteId, at);
  }

  /**
   * Notes that `siteId` was seen now and returns the time to store as its `lastSeenAt` when a write is due (the
   * caller writes it, e.g. folded into the request's nonce statement), else undefined.
   */
  due(siteId: string): string | undefined {
    const now = this.opts.now();
    this.seenAt.set(siteId, now);
    const last = this.written.get(siteId);
    if (last !== undefined && now - last < (this.opts.intervalMs ?? 5000)) return undefined;
    this.written.set(siteId, now);
    return new Date(now).toISOString();
  }
}
