/**
 * Stream endpoint throughput: wearable samples per second through the real local API (HTTP on 127.0.0.1,
 * auth, validation, unit normalisation, the ingest queue) into a real twin store (SQLite in a temporary
 * directory by default, WAL + synchronous FULL, as in production).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  IngestQueue,
  LiveScorer,
  MemoryTwinStore,
  SqliteTwinStore,
  startLocalApi,
  type TwinStore,
} from '@twinfed/site-client';

/** Options of {@link benchStream}. */
interface BenchStreamOptions {
  /** Samples posted in total. */
  samples: number;
  /** Samples per request. */
  batch: number;
  /** Requests in flight at once (default 4: a few device gateways). */
  concurrency?: number;
  /** Store under test (default 'sqlite'). */
  store?: 'sqlite' | 'memory';
  /** Patients the samples are spread over (default 100). */
  patients?: number;
}

/** What {@link benchStream} measured. */
interface BenchStreamResult {
  samples: number;
  batch: number;
  concurrency: number;
  seconds: number;
  samplesPerSecond: number;
  requests: number;
  accepted: number;
  duplicates: number;
  rejected: number;
}

/** Posts `samples` wearable samples in batches of `batch` to a fresh local API and measures samples per second. */
export async function benchStream(options: BenchStreamOptions): Promise<BenchStreamResult> {
  const patients = Math.max(1, options.patients ?? 100);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-bench-stream-'));
  const secret = randomBytes(32);
  let store: TwinStore | null = null;
  const token = randomBytes(32).toString('base64url');
  try {
    store =
      options.store === 'memory'
        ? new MemoryTwinStore({ secret })
        : await SqliteTwinStore.open({ path: path.join(dir, 'twins.db'), secret });
    await store.apply(
      Array.from({ length: patients }, (_, p) => ({
        type: 'patient' as const,
        hospitalId: `BENCH-${p}`,
        aliases: [`Patient/bench-${p}`],
      })),
    );
    const scorer = new LiveScorer({ store });
    scorer.start();
    const api = await startLocalApi({ token, store, queue: new IngestQueue({ store }), scorer });
    const bodies: string[] = [];
    const t0 = Date.UTC(2024, 0, 1);
    for (let start = 0, b = 0; start < options.samples; start += options.batch, b++) {
      const n = Math.min(options.batch, options.samples - start);
      const p = b % patients;
      const samples = Array.from({ length: n }, (_, i) => ({
        id: `s${start + i}`,
        t: t0 + (start + i) * 60_000,
        code: '40443-4',
        value: 60 + ((start + i) % 30),
        unit: '/min',
      }));
      bodies.push(JSON.stringify({ deviceId: `dev-${p}`, patientRef: `Patient/bench-${p}`, samples }));
    }
    const totals = { accepted: 0, duplicates: 0, rejected: 0 };
    let next = 0;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const res = await fetch(`${api.url}/v1/observations`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body,
        });
        const r = (await res.json()) as { accepted?: number; duplicates?: number; rejected?: unknown[] };
        if (!res.ok) throw new Error(`stream bench: HTTP ${res.status} ${JSON.stringify(r)}`);
        totals.accepted += r.accepted ?? 0;
        totals.duplicates += r.duplicates ?? 0;
        totals.rejected += r.rejected?.length ?? 0;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    await api.close();
    scorer.close();
    return {
      samples: options.samples,
      batch: options.batch,
      concurrency,
      seconds,
      samplesPerSecond: options.samples / Math.max(seconds, 1e-9),
      requests: bodies.length,
      ...totals,
    };
  } finally {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
