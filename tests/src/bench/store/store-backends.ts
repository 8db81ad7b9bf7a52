/**
 * The store backends side by side (SQLite file vs PostgreSQL over loopback): request nonces, 64 KiB uploads and audit
 * appends, each as the coordinator issues them (nonces and uploads concurrently, audit appends one after the other).
 * Timings are reported, never asserted.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { dropPostgresSchema, PostgresStore, SqliteStore } from '@twinfed/coordinator';
import type { BenchTable } from '../report';

type AnyStore = Awaited<ReturnType<typeof SqliteStore.open>>;

export interface StoreBenchOptions {
  nonces: number;
  uploads: number;
  uploadBytes: number;
  audits: number;
  /** Requests in flight at once for nonces and uploads. */
  concurrency: number;
  pgUrl: string;
}

interface Timings {
  noncesMs: number;
  uploadsMs: number;
  auditsMs: number;
}

async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function measure(store: AnyStore, o: StoreBenchOptions): Promise<Timings> {
  const now = new Date().toISOString();
  const later = new Date(Date.now() + 600_000).toISOString();
  const noncesMs = await timed(() =>
    pool(o.nonces, o.concurrency, async (i) => {
      if (!(await store.useNonce({ siteId: `site-${i % 50}`, nonce: `n-${i}`, expiresAt: later, now })))
        throw new Error('a fresh nonce was refused');
    }),
  );
  await store.createFederation({ id: 'bench', name: 'bench', plan: {}, createdAt: now });
  await store.createRound({
    federationId: 'bench',
    round: 1,
    baseVersionId: 'v0',
    selectedSiteIds: [],
    clientConfig: {},
    openedAt: now,
    deadlineAt: later,
  });
  const envelope = new Uint8Array(randomBytes(o.uploadBytes));
  const uploadsMs = await timed(() =>
    pool(o.uploads, o.concurrency, async (i) => {
      const r = await store.putUpdate({
        federationId: 'bench',
        round: 1,
        siteId: `site-${String(i).padStart(5, '0')}`,
        digest: `d-${i}`,
        envelope,
        numExamples: 100,
        metrics: { loss: 0.5 },
        receivedAt: now,
      });
      if (r.status !== 'inserted') throw new Error(`upload ${i}: ${r.status}`);
    }),
  );
  const auditsMs = await timed(async () => {
    for (let i = 0; i < o.audits; i++)
      await store.appendAudit({ at: now, actor: 'bench', action: 'bench.append', subject: `${i}`, detail: { i } });
  });
  return { noncesMs, uploadsMs, auditsMs };
}

/** Runs the same workload on a fresh SQLite file and a fresh PostgreSQL schema (dropped afterwards). */
export async function benchStoreBackends(o: StoreBenchOptions): Promise<{ sqlite: Timings; postgres: Timings }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-store-bench-'));
  let sqlite: Timings;
  const lite = await SqliteStore.open({ path: path.join(dir, 'coordinator.db') });
  try {
    sqlite = await measure(lite, o);
  } finally {
    await lite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const schema = `tf_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  let postgres: Timings;
  const pg = await PostgresStore.open({ url: o.pgUrl, schema, poolSize: o.concurrency });
  try {
    postgres = await measure(pg, o);
  } finally {
    await pg.close();
    await dropPostgresSchema(o.pgUrl, schema);
  }
  return { sqlite, postgres };
}

/** The results as a benchmark table (ms per workload, and PostgreSQL / SQLite). */
export function storeBackendsTable(o: StoreBenchOptions, r: { sqlite: Timings; postgres: Timings }): BenchTable {
  const row = (name: string, key: keyof Timings) => [
    name,
    r.sqlite[key],
    r.postgres[key],
    r.postgres[key] / r.sqlite[key],
  ];
  return {
    title: 'Store backends: SQLite file vs PostgreSQL (loopback)',
    note: `concurrency ${o.concurrency} for nonces and uploads; audit appends one after another; ms for the whole workload`,
    columns: ['workload', 'SQLite ms', 'PostgreSQL ms', 'PG / SQLite'],
    rows: [
      row(`${o.nonces} nonce uses`, 'noncesMs'),
      row(`${o.uploads} × ${o.uploadBytes / 1024} KiB uploads`, 'uploadsMs'),
      row(`${o.audits} audit appends`, 'auditsMs'),
    ],
  };
}
