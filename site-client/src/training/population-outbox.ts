import * as path from 'node:path';
import { z } from 'zod';
import { PopulationReportSchema, TwinfedError, routes, sha256Hex, type PopulationReport } from '@twinfed/shared';
import type { UniformSource } from '../population/noise';
import { noisyCounts, releasePopulationTable, type ExactPopulationTable } from '../population/report';
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

const EntrySchema = z.object({
  federationId: z.string(),
  versionId: z.string(),
  report: PopulationReportSchema,
  sentAt: z.string().nullable(),
  /** SHA-256 of the exact table the report released (settings and counts), to recognise an unchanged one. */
  countsDigest: z.string().optional(),
  /** The released cell values before suppression (noisy with ε), re-sent for an unchanged table. */
  released: z.array(z.array(z.number().int().min(0))).optional(),
});
const OutboxV1Schema = z.object({ version: z.literal(1), entries: z.array(EntrySchema) });
const OutboxSchema = z.object({
  version: z.literal(2),
  spentEpsilon: z.number().min(0),
  entries: z.array(EntrySchema),
});
type Entry = z.infer<typeof EntrySchema>;

/** Default total ε a site spends on population reports over its lifetime, across every federation (site policy). */
export const DEFAULT_POPULATION_EPSILON_BUDGET = 10;

/** Options of {@link PopulationOutbox.open}. */
interface PopulationOutboxOptions {
  /** Total ε the site may spend on fresh noisy reports, all federations together (the same patients are in each). */
  epsilonBudget: number;
}

const digestOf = (t: ExactPopulationTable): string =>
  sha256Hex(JSON.stringify({ tiers: t.tiers, bands: t.bands, k: t.k, epsilon: t.epsilon ?? null, exact: t.exact }));

/**
 * The population reports a site made, one per model version, and its ε ledger (`population-reports.json`, mode
 * 0600). A report is written here before it is sent and re-sent unchanged on every retry, so the Laplace noise of a
 * version is drawn once: a retry or a restart never releases a second noisy draw of the same counts. A version whose
 * exact counts equal an earlier report's re-sends that report's released values (no new draw, no ε spent): averaging
 * reports of unchanged counts learns nothing. Every fresh noisy draw adds its ε to the ledger, and a draw that would
 * take it past the site's budget is refused (`POPULATION_BUDGET_EXHAUSTED`) — the plan cannot raise a site's budget.
 */
export class PopulationOutbox {
  private constructor(
    private readonly file: string,
    private readonly budget: number,
    private entries: Entry[],
    private spent: number,
  ) {}

  /** Opens (or starts) the outbox in `dataDir`; throws `CONFIG_INVALID` when the file is corrupt. */
  static open(
    dataDir: string,
    options: PopulationOutboxOptions = { epsilonBudget: DEFAULT_POPULATION_EPSILON_BUDGET },
  ): PopulationOutbox {
    const file = path.join(dataDir, POPULATION_OUTBOX_FILE);
    if (!(options.epsilonBudget >= 0) || !Number.isFinite(options.epsilonBudget))
      throw new TwinfedError('CONFIG_INVALID', 'The population ε budget must be a finite number ≥ 0.');
    let raw: unknown;
    try {
      raw = readJsonIfExists(file);
    } catch (e) {
      throw new TwinfedError('CONFIG_INVALID', `${file} is not valid JSON.`, { cause: e });
    }
    if (raw === undefined) return new PopulationOutbox(file, options.epsilonBudget, [], 0);
    const v1 = OutboxV1Schema.safeParse(raw);
    if (v1.success)
      return new PopulationOutbox(
        file,
        options.epsilonBudget,
        v1.data.entries,
        v1.data.entries.reduce((s, e) => s + (e.report.epsilon ?? 0), 0),
      );
    const parsed = OutboxSchema.safeParse(raw);
    if (!parsed.success) throw new TwinfedError('CONFIG_INVALID', `${file} is malformed.`);
    return new PopulationOutbox(file, options.epsilonBudget, parsed.data.entries, parsed.data.spentEpsilon);
  }

  /** The ε spent so far on population reports (fresh noisy draws). */
  get spentEpsilon(): number {
    return this.spent;
  }

  /** The stored report of a version, and whether it was sent. */
  get(versionId: string): { report: PopulationReport; sent: boolean } | undefined {
    const e = this.entries.find((x) => x.versionId === versionId);
    return e ? { report: e.report, sent: e.sentAt !== null } : undefined;
  }

  /**
   * Stores a version's report (durably) unless one is stored already, and returns the one to send: the released
   * values of an unchanged table again, else a fresh draw from `rng` that spends the table's ε. Throws
   * `POPULATION_BUDGET_EXHAUSTED` (nothing stored) when that draw would exceed the budget.
   */
  stage(input: { federationId: string; table: ExactPopulationTable; rng: UniformSource }): PopulationReport {
    const { table } = input;
    const existing = this.get(table.versionId);
    if (existing) return existing.report;
    const countsDigest = digestOf(table);
    const same = [...this.entries].reverse().find((e) => e.countsDigest === countsDigest && e.released !== undefined);
    const cost = same || table.epsilon === undefined ? 0 : table.epsilon;
    if (this.spent + cost > this.budget + 1e-9) {
      throw new TwinfedError(
        'POPULATION_BUDGET_EXHAUSTED',
        `A new population report would spend ε ${cost} more; ${this.spent} of this site's budget of ${this.budget} is spent.`,
      );
    }
    const released = same?.released ?? noisyCounts(table, input.rng);
    const report = PopulationReportSchema.parse(releasePopulationTable(table, released));
    this.save(
      [
        ...this.entries,
        { federationId: input.federationId, versionId: report.versionId, report, sentAt: null, countsDigest, released },
      ],
      this.spent + cost,
    );
    return report;
  }

  /** Records that the coordinator accepted the version's report. */
  markSent(versionId: string): void {
    const next = this.entries.map((e) =>
      e.versionId === versionId && e.sentAt === null ? { ...e, sentAt: new Date().toISOString() } : e,
    );
    const sent = next.filter((e) => e.sentAt !== null);
    const drop = new Set(sent.slice(0, Math.max(0, sent.length - KEEP_SENT)));
    this.save(
      next.filter((e) => !drop.has(e)),
      this.spent,
    );
  }

  private save(entries: Entry[], spentEpsilon: number): void {
    writeFileAtomic(this.file, `${JSON.stringify({ version: 2, spentEpsilon, entries })}\n`, { mode: 0o600 });
    this.entries = entries;
    this.spent = spentEpsilon;
  }
}
