import * as path from 'node:path';
import { z } from 'zod';
import { PopulationReportSchema, TwinfedError, routes, type PopulationReport } from '@twinfed/shared';
import { readJsonIfExists, writeFileAtomic } from '../fs-atomic';
import { HttpTransport, type HttpTransportOptions } from '../transport/http';

/** File of the population outbox inside the site data dir. */
export const POPULATION_OUTBOX_FILE = 'population-reports.json';

/** How many sent reports the outbox keeps (pending ones are always kept). */
const KEEP_SENT = 50;

/** The coordinator route a site sends its population report to. */
export interface PopulationApi {
  /** `POST /v1/population/reports` (site-signed): the report of one model version. */
  postPopulationReport(opts: { report: PopulationReport; signal?: AbortSignal }): Promise<void>;
}

/** {@link PopulationApi} over signed HTTP (same transport, retries and timeouts as the coordinator client). */
export class HttpPopulationApi implements PopulationApi {
  private readonly http: HttpTransport;

  constructor(options: HttpTransportOptions) {
    this.http = new HttpTransport(options);
  }

  async postPopulationReport(opts: { report: PopulationReport; signal?: AbortSignal }): Promise<void> {
    const req = { method: 'POST' as const, path: routes.populationReports, json: opts.report };
    await this.http.send(opts.signal ? { ...req, signal: opts.signal } : req);
  }
}

const EntrySchema = z.object({ federationId: z.string(), versionId: z.string(), report: PopulationReportSchema, sentAt: z.string().nullable() });
const OutboxSchema = z.object({ version: z.literal(1), entries: z.array(EntrySchema) });
type Entry = z.infer<typeof EntrySchema>;

/**
 * The population reports a site made, one per model version (`population-reports.json`, mode 0600). A report
 * is written here before it is sent and re-sent unchanged on every retry, so the Laplace noise of a version is
 * drawn once: a retry or a restart never releases a second noisy draw of the same counts (which would spend
 * the privacy budget again).
 */
export class PopulationOutbox {
  private constructor(
    private readonly file: string,
    private entries: Entry[],
  ) {}

  /** Opens (or starts) the outbox in `dataDir`; throws `CONFIG_INVALID` when the file is corrupt. */
  static open(dataDir: string): PopulationOutbox {
    const file = path.join(dataDir, POPULATION_OUTBOX_FILE);
    let raw: unknown;
    try {
      raw = readJsonIfExists(file);
    } catch (e) {
      throw new TwinfedError('CONFIG_INVALID', `${file} is not valid JSON.`, { cause: e });
    }
    if (raw === undefined) return new PopulationOutbox(file, []);
    const parsed = OutboxSchema.safeParse(raw);
    if (!parsed.success) throw new TwinfedError('CONFIG_INVALID', `${file} is malformed.`);
    return new PopulationOutbox(file, parsed.data.entries);
  }

  /** The stored report of a version, and whether it was sent. */
  get(versionId: string): { report: PopulationReport; sent: boolean } | undefined {
    const e = this.entries.find((x) => x.versionId === versionId);
    return e ? { report: e.report, sent: e.sentAt !== null } : undefined;
  }

  /** Stores a version's report (durably) unless one is stored already; returns the one to send. */
  stage(input: { federationId: string; report: PopulationReport }): PopulationReport {
    const existing = this.get(input.report.versionId);
    if (existing) return existing.report;
    const report = PopulationReportSchema.parse(input.report);
    this.save([...this.entries, { federationId: input.federationId, versionId: report.versionId, report, sentAt: null }]);
    return report;
  }

  /** Records that the coordinator accepted the version's report. */
  markSent(versionId: string): void {
    const next = this.entries.map((e) => (e.versionId === versionId && e.sentAt === null ? { ...e, sentAt: new Date().toISOString() } : e));
    const sent = next.filter((e) => e.sentAt !== null);
    const drop = new Set(sent.slice(0, Math.max(0, sent.length - KEEP_SENT)));
    this.save(next.filter((e) => !drop.has(e)));
  }

  private save(entries: Entry[]): void {
    writeFileAtomic(this.file, `${JSON.stringify({ version: 1, entries })}\n`, { mode: 0o600 });
    this.entries = entries;
  }
}
