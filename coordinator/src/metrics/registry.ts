/**
 * The coordinator's Prometheus metrics (`GET /metrics`), on prom-client: the one module that imports it. Each
 * coordinator owns its own {@link Registry} (never prom-client's global one: tests run many coordinators in one
 * process, and two coordinators must not share counters). Every name here is listed in docs/metrics.md.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Outcomes of an upload request, as counted. */
type UploadOutcome = 'accepted' | 'duplicate' | 'late' | 'rejected' | 'overloaded';

/** Outcomes of a round. */
type RoundOutcome = 'published' | 'failed';

/** Phases of a secure-aggregation round that are timed (see docs/metrics.md). */
const SECAGG_PHASES = ['share_relay', 'mask_collection', 'unmasking'] as const;
type SecaggPhase = (typeof SECAGG_PHASES)[number];

/** The counts kept across restarts (metrics/durable-counts.ts), by their name in the store. */
export const DURABLE_COUNTS = ['uploads.late', 'rounds.published', 'rounds.failed', 'recoveries'] as const;
type DurableCount = (typeof DURABLE_COUNTS)[number];

/** The live values behind the gauges, read at each scrape. */
interface GaugeSources {
  uploadsInFlight: () => number;
  uploadsQueued: () => number;
  sitesConnected: () => number;
}

/** Seconds: cryptographic steps of one update (an Ed25519 verify, an X25519 + AES-GCM open) take well under 1 ms. */
const CRYPTO_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** Seconds: one upload request, admission to answer (queueing for a verification slot included). */
const UPLOAD_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds: a round, open to close (plan deadlines are seconds to hours). */
const ROUND_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 7200];
/** Seconds: aggregation and the secure-aggregation phases (milliseconds of work to minutes of waiting for sites). */
const PHASE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/**
 * The coordinator's metrics. The engine, the upload gate and the scheduler record into it; `/metrics` renders
 * {@link registry}. Counters start at zero with the process (as Prometheus counters do) except the
 * {@link DurableCount}s, which `restore` sets from the store and `onDurable` reports so they can be written back.
 */
export class CoordinatorMetrics {
  readonly registry = new Registry();
  private sources: GaugeSources = { uploadsInFlight: () => 0, uploadsQueued: () => 0, sitesConnected: () => 0 };
  /** Called with each increment of a durable count (the coordinator writes it to the store). */
  onDurable: (key: DurableCount, by: number) => void = () => undefined;

  private readonly uploads = new Counter({
    name: 'twinfed_uploads_total',
    help: 'Update uploads by outcome (late: the round had closed; overloaded: refused with 503 by the upload gate). outcome="late" survives restarts.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly rejections = new Counter({
    name: 'twinfed_uploads_rejected_total',
    help: 'Update uploads refused by the round engine, by error code (docs/errors.md).',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  private readonly rounds = new Counter({
    name: 'twinfed_rounds_total',
    help: 'Rounds closed by this replica, by outcome (survives restarts).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly recoveries = new Counter({
    name: 'twinfed_recoveries_total',
    help: 'Federations retried from their stored state after an error (survives restarts).',
    registers: [this.registry],
  });
  readonly uploadSeconds = new Histogram({
    name: 'twinfed_upload_duration_seconds',
    help: 'Upload requests from admission by the upload gate to the answer (body read, queueing, verification, storage).',
    buckets: UPLOAD_BUCKETS,
    registers: [this.registry],
  });
  readonly verifySeconds = new Histogram({
    name: 'twinfed_update_verify_seconds',
    help: "Verification of an update's Ed25519 signature.",
    buckets: CRYPTO_BUCKETS,
    registers: [this.registry],
  });
  readonly openSeconds = new Histogram({
    name: 'twinfed_update_open_seconds',
    help: 'Opening (X25519 + AES-GCM decryption and decoding) of a verified update.',
    buckets: CRYPTO_BUCKETS,
    registers: [this.registry],
  });
  private readonly roundSeconds = new Histogram({
    name: 'twinfed_round_seconds',
    help: 'Rounds closed by this replica, open to close, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: ROUND_BUCKETS,
    registers: [this.registry],
  });
  readonly aggregationSeconds = new Histogram({
    name: 'twinfed_aggregation_seconds',
    help: "Aggregation of a closed round: finishing the strategy's fold (or the step from the unmasked sum) and building the signed version.",
    buckets: PHASE_BUCKETS,
    registers: [this.registry],
  });
  private readonly secaggSeconds = new Histogram({
    name: 'twinfed_secagg_phase_seconds',
    help: 'Secure-aggregation phases: share_relay (open to key shares closed), mask_collection (key shares closed to the round closing), unmasking (recombining and removing the masks).',
    labelNames: ['phase'] as const,
    buckets: PHASE_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    const gauge = (name: string, help: string, read: (s: GaugeSources) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(sources()));
        },
      });
    const sources = () => this.sources;
    gauge('twinfed_uploads_in_flight', 'Uploads admitted and not yet answered.', (s) => s.uploadsInFlight());
    gauge('twinfed_uploads_queued', 'Uploads waiting for a verification slot.', (s) => s.uploadsQueued());
    gauge('twinfed_sites_connected', 'Site sockets connected.', (s) => s.sitesConnected());
    // Every labelled series exists from the start (at zero), so rates and dashboards have something to read.
    for (const outcome of ['accepted', 'duplicate', 'late', 'rejected', 'overloaded'] as const)
      this.uploads.inc({ outcome }, 0);
    for (const outcome of ['published', 'failed'] as const) {
      this.rounds.inc({ outcome }, 0);
      this.roundSeconds.zero({ outcome });
    }
    for (const phase of SECAGG_PHASES) this.secaggSeconds.zero({ phase });
  }

  /** prom-client's default process and Node.js metrics (CPU, memory, event loop, GC) on this registry. */
  collectProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Where the gauges read their values (the upload gate, the engine, the socket layer). */
  watch(sources: Partial<GaugeSources>): void {
    this.sources = { ...this.sources, ...sources };
  }

  /** Adds counts read from the store (once, at startup, before anything is counted). */
  restore(counts: Partial<Record<DurableCount, number>>): void {
    for (const [key, n] of Object.entries(counts) as Array<[DurableCount, number]>) this.bump(key, n);
  }

  upload(outcome: Exclude<UploadOutcome, 'late' | 'rejected'>): void {
    this.uploads.inc({ outcome });
  }

  /** An upload the round engine refused, with its error code. */
  rejected(code: string): void {
    this.uploads.inc({ outcome: 'rejected' });
    this.rejections.inc({ code });
  }

  /** A late upload (the round had closed before it arrived). */
  late(): void {
    this.durable('uploads.late');
  }

  round(outcome: RoundOutcome, seconds: number): void {
    this.durable(outcome === 'published' ? 'rounds.published' : 'rounds.failed');
    if (Number.isFinite(seconds) && seconds >= 0) this.roundSeconds.observe({ outcome }, seconds);
  }

  recovery(): void {
    this.durable('recoveries');
  }

  /** A secure-aggregation phase of a round took `seconds`. */
  secaggPhase(phase: SecaggPhase, seconds: number): void {
    if (Number.isFinite(seconds) && seconds >= 0) this.secaggSeconds.observe({ phase }, seconds);
  }

  /** Runs `fn`, observing its duration in `histogram` when it returns (not when it throws). */
  static timed<T>(histogram: Histogram, fn: () => T): T {
    const end = histogram.startTimer();
    const out = fn();
    end();
    return out;
  }

  private durable(key: DurableCount): void {
    this.bump(key, 1);
    this.onDurable(key, 1);
  }

  private bump(key: DurableCount, n: number): void {
    if (key === 'uploads.late') this.uploads.inc({ outcome: 'late' }, n);
    else if (key === 'recoveries') this.recoveries.inc(n);
    else this.rounds.inc({ outcome: key === 'rounds.published' ? 'published' : 'failed' }, n);
  }
}
