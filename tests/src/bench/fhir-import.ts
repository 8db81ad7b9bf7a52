/**
 * Ingestion throughput: FHIR resources per second into a real twin store (SQLite in a temporary directory
 * by default, WAL + synchronous FULL, as in production), parse and write included.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { MemoryTwinStore, SqliteTwinStore, importFhir, type IngestReport, type TwinStore } from '@twinfed/site-client';

interface BenchFhirImportOptions {
  /** Resources in the generated NDJSON file (one Patient per 50, the rest vitals). */
  resources: number;
  /** Store under test (default 'sqlite'). */
  store?: 'sqlite' | 'memory';
}

interface BenchFhirImportResult {
  resources: number;
  seconds: number;
  resourcesPerSecond: number;
  /** Bytes of the generated file. */
  bytes: number;
  report: IngestReport;
}

const CODES: readonly (readonly [string, number, number, string])[] = [
  ['8867-4', 60, 40, '/min'],
  ['59408-5', 92, 8, '%'],
  ['8310-5', 97, 4, '[degF]'],
  ['9279-1', 12, 10, '/min'],
];

/** The NDJSON file the benchmark imports (deterministic). */
export function benchFhirNdjson(resources: number): string {
  const patients = Math.max(1, Math.floor(resources / 50));
  const lines: string[] = [];
  for (let p = 0; p < patients && lines.length < resources; p++) {
    lines.push(
      JSON.stringify({
        resourceType: 'Patient',
        id: `bp${p}`,
        identifier: [{ system: 'urn:bench', value: `BENCH-${p}` }],
        birthDate: `${1940 + (p % 60)}-01-01`,
        gender: p % 2 ? 'male' : 'female',
      }),
    );
  }
  for (let i = 0; lines.length < resources; i++) {
    const [code, base, spread, unit] = CODES[i % CODES.length]!;
    const t = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString();
    lines.push(
      JSON.stringify({
        resourceType: 'Observation',
        id: `bo${i}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code }] },
        subject: { reference: `Patient/bp${i % patients}` },
        effectiveDateTime: t,
        valueQuantity: {
          value: base + ((i * 7919) % 100) / (100 / spread),
          system: 'http://unitsofmeasure.org',
          code: unit,
        },
      }),
    );
  }
  return lines.join('\n') + '\n';
}

/** Imports a generated file of `resources` FHIR resources into a fresh store and measures resources per second. */
export async function benchFhirImport(options: BenchFhirImportOptions): Promise<BenchFhirImportResult> {
  const text = benchFhirNdjson(options.resources);
  const secret = randomBytes(32);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-bench-ingest-'));
  let store: TwinStore | null = null;
  try {
    store =
      options.store === 'memory'
        ? new MemoryTwinStore({ secret })
        : await SqliteTwinStore.open({ path: path.join(dir, 'twins.db'), secret });
    const start = performance.now();
    const report = await importFhir({ store, text });
    const seconds = (performance.now() - start) / 1000;
    return {
      resources: options.resources,
      seconds,
      resourcesPerSecond: options.resources / Math.max(seconds, 1e-9),
      bytes: Buffer.byteLength(text),
      report,
    };
  } finally {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
