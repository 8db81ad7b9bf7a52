import { TwinfedError } from '@twinfed/shared';
import type { TwinStore, TwinWrite, WriteOutcome } from '../twins/store-types';

/** Options of {@link IngestQueue}. */
interface IngestQueueOptions {
  store: TwinStore;
  /** Most writes waiting or being applied; beyond it `submit` refuses with `OVERLOADED` (default 50,000). */
  capacity?: number;
  /** Most writes per store transaction when queued requests are applied together (default 5,000). */
  maxTransaction?: number;
}

interface Job {
  writes: readonly TwinWrite[];
  resolve: (outcomes: WriteOutcome[]) => void;
  reject: (e: unknown) => void;
}

/**
 * The bounded queue between the stream endpoint and the twin store. Requests wait here while earlier ones are
 * written; whatever queued up meanwhile is applied together in one store transaction (up to `maxTransaction`
 * writes), which is what makes a stream of small batches fast on SQLite with synchronous commits. When the
 * queue holds `capacity` writes, new requests are refused at once (`OVERLOADED`, the caller answers 503 with
 * Retry-After) instead of piling up in memory.
 */
export class IngestQueue {
  private readonly jobs: Job[] = [];
  private queued = 0;
  private running = false;
  private readonly capacity: number;
  private readonly maxTransaction: number;

  constructor(private readonly options: IngestQueueOptions) {
    this.capacity = Math.max(1, options.capacity ?? 50_000);
    this.maxTransaction = Math.max(1, options.maxTransaction ?? 5000);
  }

  /** Writes waiting or being applied. */
  get depth(): number {
    return this.queued;
  }

  /** Queues the writes; resolves with one outcome per write once they are committed. */
  submit(writes: readonly TwinWrite[]): Promise<WriteOutcome[]> {
    if (writes.length === 0) return Promise.resolve([]);
    if (this.queued + writes.length > this.capacity) {
      return Promise.reject(
        new TwinfedError('OVERLOADED', `The ingest queue is full (${this.queued} writes waiting); retry later.`),
      );
    }
    this.queued += writes.length;
    return new Promise<WriteOutcome[]>((resolve, reject) => {
      this.jobs.push({ writes, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.jobs.length > 0) {
        const batch: Job[] = [this.jobs.shift()!];
        let size = batch[0]!.writes.length;
        while (this.jobs.length > 0 && size + this.jobs[0]!.writes.length <= this.maxTransaction) {
          const next = this.jobs.shift()!;
          size += next.writes.length;
          batch.push(next);
        }
        try {
          const outcomes = await this.options.store.apply(batch.flatMap((j) => j.writes));
          let at = 0;
          for (const job of batch) {
            job.resolve(outcomes.slice(at, at + job.writes.length));
            at += job.writes.length;
          }
        } catch (e) {
          for (const job of batch) job.reject(e);
        } finally {
          this.queued -= size;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
