/** What every in-memory domain part shares: the state (until close) and audited writes. */
import { storeClosed } from '../errors';
import type { NewAuditEntry } from '../records';
import type { StoreLifecycle } from '../types';
import { appendAudit } from './audit';
import { emptyState, type MemoryState } from './state';

/**
 * Each method of a part runs synchronously inside its promise (no await), so multi-step writes are atomic.
 * Records are deep-copied on the way in and out, so callers cannot mutate stored state.
 */
export class MemoryContext {
  private state: MemoryState | null = emptyState();

  /** The live state; throws NOT_READY after close. */
  get s(): MemoryState {
    if (!this.state) throw storeClosed();
    return this.state;
  }

  get open(): boolean {
    return this.state !== null;
  }

  close(): void {
    this.state = null;
  }

  /** Runs a write and, when `done(result)` says it took effect, appends `entry` (synchronously, so atomically). */
  audited<X>(
    entry: NewAuditEntry | undefined,
    write: (s: MemoryState) => X,
    done: (result: X) => boolean = () => true,
  ): X {
    const s = this.s;
    const result = write(s);
    if (entry && done(result)) appendAudit(s, entry);
    return result;
  }
}

export function lifecycle(x: MemoryContext): StoreLifecycle {
  return {
    async health() {
      return x.open;
    },
    async close() {
      x.close();
    },
  };
}
