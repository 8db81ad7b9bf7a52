import * as path from 'node:path';
import { z } from 'zod';
import { TwinfedError } from '@twinfed/shared';
import { readJsonIfExists, writeFileAtomic } from '../fs-atomic';

/** File name of the journal inside the data directory. */
export const JOURNAL_FILE = 'rounds.json';

const UploadEntrySchema = z.object({
  federationId: z.string(),
  round: z.number().int(),
  baseVersionId: z.string(),
  digest: z.string(),
  status: z.enum(['accepted', 'duplicate']),
  receivedAt: z.string(),
});
/** `metrics` (the values the site reported) is absent in journals written before it was recorded. */
const EvaluationEntrySchema = z.object({
  federationId: z.string(),
  versionId: z.string(),
  n: z.number().int(),
  metrics: z.record(z.string(), z.number()).optional(),
  at: z.string(),
});
/** The digest of the signed plan the site first accepted for a federation (absent in journals written before plans were signed). */
const PlanEntrySchema = z.object({
  federationId: z.string(),
  planSha256: z.string().regex(/^[0-9a-f]{64}$/),
  at: z.string(),
});
const JournalSchema = z.object({
  version: z.literal(1),
  uploads: z.array(UploadEntrySchema),
  evaluations: z.array(EvaluationEntrySchema),
  plans: z.array(PlanEntrySchema).default([]),
});

/** An acknowledged upload, as recorded. */
export type UploadEntry = z.infer<typeof UploadEntrySchema>;
/** A posted evaluation, as recorded. */
export type EvaluationEntry = z.infer<typeof EvaluationEntrySchema>;
/** A federation's pinned plan digest, as recorded. */
export type PlanEntry = z.infer<typeof PlanEntrySchema>;
/** The journal's content. */
export type JournalData = z.infer<typeof JournalSchema>;

/**
 * The site's small local journal (`rounds.json`): the uploads the coordinator acknowledged, the evaluations it
 * accepted and the plan digest the site accepted per federation. Written atomically after each acknowledgement, so a
 * restarted site never uploads twice for the same round nor re-posts an evaluation, and refuses a changed plan.
 */
export class Journal {
  private data: JournalData;

  private constructor(
    private readonly file: string,
    data: JournalData,
  ) {
    this.data = data;
  }

  /** Opens (or starts) the journal in `dataDir`. Throws `CONFIG_INVALID` when the file is corrupt. */
  static open(dataDir: string): Journal {
    const file = path.join(dataDir, JOURNAL_FILE);
    let raw: unknown;
    try {
      raw = readJsonIfExists(file);
    } catch (e) {
      throw new TwinfedError('CONFIG_INVALID', `The journal ${file} is not valid JSON.`, { cause: e });
    }
    if (raw === undefined) return new Journal(file, { version: 1, uploads: [], evaluations: [], plans: [] });
    const parsed = JournalSchema.safeParse(raw);
    if (!parsed.success) throw new TwinfedError('CONFIG_INVALID', `The journal ${file} is malformed.`);
    return new Journal(file, parsed.data);
  }

  /** Path of the journal file. */
  get path(): string {
    return this.file;
  }

  /** The acknowledged upload of `round`, if any. */
  upload(federationId: string, round: number): UploadEntry | undefined {
    return this.data.uploads.find((u) => u.federationId === federationId && u.round === round);
  }

  /** Records an acknowledged upload (durably, before returning). Recording the same round again is a no-op. */
  recordUpload(entry: UploadEntry): void {
    if (this.upload(entry.federationId, entry.round)) return;
    this.save({ ...this.data, uploads: [...this.data.uploads, UploadEntrySchema.parse(entry)] });
  }

  /** True when the evaluation of `versionId` was already accepted. */
  hasEvaluation(versionId: string): boolean {
    return this.data.evaluations.some((e) => e.versionId === versionId);
  }

  /** Records an accepted evaluation (durably). */
  recordEvaluation(entry: EvaluationEntry): void {
    if (this.hasEvaluation(entry.versionId)) return;
    this.save({ ...this.data, evaluations: [...this.data.evaluations, EvaluationEntrySchema.parse(entry)] });
  }

  /** The plan digest pinned for a federation (the first signed plan this site accepted for it), if any. */
  pinnedPlan(federationId: string): PlanEntry | undefined {
    return this.data.plans.find((p) => p.federationId === federationId);
  }

  /** Pins a federation's plan digest (durably, before returning). A federation already pinned keeps its first digest. */
  pinPlan(entry: PlanEntry): void {
    if (this.pinnedPlan(entry.federationId)) return;
    this.save({ ...this.data, plans: [...this.data.plans, PlanEntrySchema.parse(entry)] });
  }

  /** A copy of the journal's content (for `status`). */
  snapshot(): JournalData {
    return structuredClone(this.data);
  }

  private save(next: JournalData): void {
    writeFileAtomic(this.file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    this.data = next;
  }
}
