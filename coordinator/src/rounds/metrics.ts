/** Outcomes of an upload request, as counted. */
type UploadOutcome = 'accepted' | 'duplicate' | 'late' | 'rejected' | 'overloaded';

/** Outcomes of a round. */
type RoundOutcome = 'published' | 'failed';

const KEPT_ROUNDS = 256;

/**
 * In-process counters of the round engine and the upload path (exported at `/metrics`). Counters restart
 * at zero with the process, as Prometheus counters do; the store keeps the durable record.
 */
export class EngineMetrics {
  readonly uploads: Record<UploadOutcome, number> = { accepted: 0, duplicate: 0, late: 0, rejected: 0, overloaded: 0 };
  readonly rounds: Record<RoundOutcome, number> = { published: 0, failed: 0 };
  /** Closed-round durations (open → close) in seconds, newest last, at most 256. */
  readonly roundSeconds: number[] = [];
  /** Late uploads per `federationId:round` (the most recent 256 rounds with any). */
  readonly lateByRound = new Map<string, number>();
  /** Times the engine retried a federation after an error (store or aggregation trouble). */
  recoveries = 0;

  upload(outcome: UploadOutcome): void {
    this.uploads[outcome]++;
  }

  /** Counts a late upload of a round. */
  late(federationId: string, round: number): void {
    this.uploads.late++;
    const key = `${federationId}:${round}`;
    this.lateByRound.set(key, (this.lateByRound.get(key) ?? 0) + 1);
    if (this.lateByRound.size > KEPT_ROUNDS) this.lateByRound.delete(this.lateByRound.keys().next().value as string);
  }

  /** Late uploads counted for a round since the process started. */
  lateCount(federationId: string, round: number): number {
    return this.lateByRound.get(`${federationId}:${round}`) ?? 0;
  }

  round(outcome: RoundOutcome, seconds: number): void {
    this.rounds[outcome]++;
    if (Number.isFinite(seconds) && seconds >= 0) {
      this.roundSeconds.push(seconds);
      if (this.roundSeconds.length > KEPT_ROUNDS) this.roundSeconds.shift();
    }
  }
}
