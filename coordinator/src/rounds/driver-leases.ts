import { TwinfedError, type Logger } from '@twinfed/shared';
import type { LeaseFence, LeaseStore, Store } from '../store';

/** What the round engine asks before and while it drives a federation (see {@link DriverLeases}). */
export interface DriverGate {
  /** True while this replica holds the federation's lease (by its own clock; the store's fence is the final word). */
  drives(federationId: string): boolean;
  /** The fence every state-changing write of the federation's round machine carries (token 0 when not held: refused). */
  fence(federationId: string): LeaseFence;
  /** Takes the lease of a federation this replica just created (nobody holds it yet); false when another replica has it. */
  claim(federationId: string): Promise<boolean>;
  /** A fenced write was refused (LEASE_LOST): stop driving the federation at once. */
  lost(federationId: string): void;
}

interface DriverLeasesOptions {
  store: Pick<Store, 'listFederations'> & LeaseStore;
  /** This replica's name as a lease holder (TWINFED_REPLICA_ID); a restart under the same name takes its leases back at once. */
  holder: string;
  /** Lease time to live (TWINFED_DRIVER_LEASE_TTL_MS, default 10 s); renewed every ttl/3. */
  ttlMs: number;
  /** How often leases nobody holds are looked for, and driven federations checked for new stored updates (default 1 s). */
  pollMs: number;
  logger: Logger;
  /** Wall clock in epoch ms (default Date.now); lease times are real time even when the engine runs on a test clock. */
  clock?: () => number;
  /** This replica now drives the federation: continue it from the store (resolves once that step ran). */
  onAcquired: (federationId: string, how: 'start' | 'takeover') => Promise<void>;
  /** This replica no longer drives the federation: cancel its timers, drop what is cached of its round. */
  onLost: (federationId: string) => void;
  /** A poll tick of a federation this replica drives (look for updates other replicas stored). */
  onTick: (federationId: string) => void;
}

interface Held {
  token: number;
  expiresAt: number;
  renew: NodeJS.Timeout;
}

/** The lease name of a federation's driver. */
export function driverLeaseName(federationId: string): string {
  return `driver:${federationId}`;
}

/**
 * One lease per federation: the replica holding `driver:<federationId>` runs that federation's timers, deadlines,
 * closing and publishing, renewing the lease every ttl/3. Every write it makes carries the lease's fencing token,
 * which the store checks in the write's own transaction, so a replica that lost its lease (paused past its TTL, cut
 * off from the store) can change nothing. A renewal that fails, or a fenced write refused with LEASE_LOST, stops the
 * driving at once. Replicas poll for leases nobody holds (expired or never taken) and, on taking one, continue the
 * federation from the store. A single coordinator takes every lease at start and drives every federation.
 */
export class DriverLeases implements DriverGate {
  private readonly held = new Map<string, Held>();
  private readonly clock: () => number;
  private poller: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: DriverLeasesOptions) {
    this.clock = o.clock ?? Date.now;
  }

  /** The federations this replica drives now. */
  get driven(): string[] {
    return [...this.held.keys()].filter((fid) => this.drives(fid));
  }

  drives(federationId: string): boolean {
    const h = this.held.get(federationId);
    return h !== undefined && h.expiresAt > this.clock();
  }

  fence(federationId: string): LeaseFence {
    return { lease: driverLeaseName(federationId), token: this.held.get(federationId)?.token ?? 0, now: this.clock() };
  }

  /**
   * Takes the lease of every running federation it can (its own former leases included, so a restarted single
   * coordinator drives everything at once), continues each taken federation, then polls for the rest.
   */
  async start(): Promise<void> {
    await this.acquireFree('start');
    this.poller = setInterval(() => void this.poll(), this.o.pollMs);
    this.poller.unref();
  }

  async claim(federationId: string): Promise<boolean> {
    if (this.drives(federationId)) return true;
    return this.acquire(federationId);
  }

  lost(federationId: string): void {
    const h = this.held.get(federationId);
    if (!h) return;
    clearTimeout(h.renew);
    this.held.delete(federationId);
    this.o.logger.warn(
      { federationId, fencingToken: h.token },
      'driver lease lost: this replica stops driving the federation',
    );
    this.o.onLost(federationId);
  }

  /** Stops polling and renewing and releases every held lease, so another replica can take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.poller) clearInterval(this.poller);
    await this.polling;
    const held = [...this.held.entries()];
    this.held.clear();
    for (const [fid, h] of held) {
      clearTimeout(h.renew);
      await this.o.store
        .releaseLease({ name: driverLeaseName(fid), holder: this.o.holder, token: h.token })
        .catch((err: unknown) => this.o.logger.warn({ err, federationId: fid }, 'could not release a driver lease'));
    }
  }

  /** One poll: free leases taken over, driven federations ticked, ended ones released. */
  private poll(): Promise<void> {
    if (this.polling || this.stopped) return this.polling ?? Promise.resolve();
    this.polling = this.acquireFree('takeover')
      .catch((err: unknown) => this.o.logger.error({ err }, 'driver lease poll failed'))
      .finally(() => {
        this.polling = null;
      });
    return this.polling;
  }

  private async acquireFree(how: 'start' | 'takeover'): Promise<void> {
    for (const fed of await this.o.store.listFederations()) {
      if (this.stopped) return;
      const fid = fed.id;
      if (fed.state !== 'running') {
        if (this.drives(fid)) await this.release(fid);
        else if (this.held.has(fid)) this.lost(fid); // it ended while another replica drove it
        continue;
      }
      if (this.drives(fid)) {
        this.o.onTick(fid);
        continue;
      }
      if (this.held.has(fid)) this.lost(fid); // held, but expired by our clock: renewals failed
      if (how === 'takeover') {
        const lease = await this.o.store.getLease(driverLeaseName(fid));
        if (lease && lease.expiresAt > this.clock()) continue; // another replica drives it
      }
      if (await this.acquire(fid)) await this.o.onAcquired(fid, how);
    }
  }

  private async acquire(federationId: string): Promise<boolean> {
    const { store, holder, ttlMs } = this.o;
    const got = await store.acquireLease({
      name: driverLeaseName(federationId),
      holder,
      ttlMs,
      now: this.clock(),
      takeFrom: holder,
    });
    if (!got) return false;
    const previous = this.held.get(federationId);
    if (previous) clearTimeout(previous.renew);
    this.held.set(federationId, { ...got, renew: this.renewLater(federationId, got.token) });
    this.o.logger.info(
      { federationId, fencingToken: got.token },
      'driver lease taken: this replica drives the federation',
    );
    return true;
  }

  private renewLater(federationId: string, token: number): NodeJS.Timeout {
    const timer = setTimeout(() => void this.renew(federationId, token), Math.max(1, Math.floor(this.o.ttlMs / 3)));
    timer.unref();
    return timer;
  }

  private async renew(federationId: string, token: number): Promise<void> {
    const h = this.held.get(federationId);
    if (!h || h.token !== token || this.stopped) return;
    let renewed: { expiresAt: number } | null;
    try {
      renewed = await this.o.store.renewLease({
        name: driverLeaseName(federationId),
        holder: this.o.holder,
        token,
        ttlMs: this.o.ttlMs,
        now: this.clock(),
      });
    } catch (err) {
      // A store error: keep trying while the lease may still hold; `drives` turns false at its expiry by our clock.
      this.o.logger.warn({ err, federationId }, 'driver lease renewal failed; trying again');
      if (this.held.get(federationId) === h) h.renew = this.renewLater(federationId, token);
      return;
    }
    if (this.held.get(federationId) !== h) return;
    if (!renewed) return this.lost(federationId);
    h.expiresAt = renewed.expiresAt;
    h.renew = this.renewLater(federationId, token);
  }

  private async release(federationId: string): Promise<void> {
    const h = this.held.get(federationId);
    if (!h) return;
    clearTimeout(h.renew);
    this.held.delete(federationId);
    await this.o.store.releaseLease({ name: driverLeaseName(federationId), holder: this.o.holder, token: h.token });
  }
}

/** True for the error a fenced write rejects with when its lease no longer holds. */
export function isLeaseLost(err: unknown): boolean {
  return err instanceof TwinfedError && err.code === 'LEASE_LOST';
}
