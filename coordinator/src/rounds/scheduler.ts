import type { Logger } from '@twinfed/shared';
import { isLeaseLost } from './driver-leases';
import { KeyedMutex } from '../util/keyed-mutex';
import type { CoordinatorMetrics } from '../metrics/registry';
import { FederationTimers } from './timers';

/**
 * When and in what order the round engine's work runs: each federation's serial section (all its transitions one at
 * a time), its one pending timer (deadline, unmasking deadline or retry) and the retry after a failed transition.
 * Owns the timers and the tracked tasks (so shutdown can wait for them); owns no round state.
 */
export class RoundScheduler {
  private readonly timers = new FederationTimers();
  private readonly mutex = new KeyedMutex();
  private readonly tasks = new Set<Promise<unknown>>();

  constructor(
    private readonly o: {
      logger: Logger;
      metrics: CoordinatorMetrics;
      /** Delay before a federation whose transition failed is tried again. */
      retryDelayMs: number;
      /** What a retry runs: continue the federation from its stored state. */
      recover: (federationId: string) => Promise<void>;
      /** True while this replica drives the federation: its timers do nothing otherwise. */
      drives: (federationId: string) => boolean;
      /** A fenced write was refused (LEASE_LOST): this replica stops driving the federation (no retry). */
      leaseLost: (federationId: string) => void;
    },
  ) {}

  /** Runs `fn` after every earlier task of the federation has settled (tracked for {@link drain}). */
  serial<T>(federationId: string, fn: () => Promise<T>): Promise<T> {
    const task = this.mutex.run(federationId, fn);
    this.tasks.add(task);
    void task.then(
      () => this.tasks.delete(task),
      () => this.tasks.delete(task),
    );
    return task;
  }

  /**
   * Runs `fn` in the federation's serial section; if it fails, tries the federation again later ({@link retryLater}),
   * unless the failure is a lost driver lease: then this replica stops driving the federation.
   */
  run(federationId: string, fn: () => Promise<void>): Promise<void> {
    return this.serial(federationId, fn).catch((err: unknown) => {
      if (isLeaseLost(err)) return this.o.leaseLost(federationId);
      this.retryLater(federationId, err);
    });
  }

  /** {@link run} after `delayMs`, replacing the federation's pending timer; skipped if this replica no longer drives it. */
  after(federationId: string, delayMs: number, fn: () => Promise<void>): void {
    this.timers.set(federationId, delayMs, () => {
      if (this.o.drives(federationId)) void this.run(federationId, fn);
    });
  }

  /** After an error, tries the federation again from its stored state a little later (never hangs). */
  retryLater(federationId: string, err: unknown): void {
    this.o.metrics.recovery();
    this.o.logger.error({ err, federationId }, 'round transition failed; retrying from the stored state');
    this.after(federationId, this.o.retryDelayMs, () => this.o.recover(federationId));
  }

  /** Cancels the federation's pending timer. */
  clear(federationId: string): void {
    this.timers.clear(federationId);
  }

  /** Stops every timer; nothing is scheduled any more. Tasks already running finish ({@link drain}). */
  close(): void {
    this.timers.close();
  }

  /** Resolves once every task started so far (and any they started) has settled. */
  async drain(): Promise<void> {
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }
}
