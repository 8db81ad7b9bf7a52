import { z } from 'zod';
import { nameKeySchema } from './names';

/**
 * The population view: what a site may tell the consortium about its scored twins. Only counts per risk
 * tier × age band leave a site, each at least `k` (smaller cells are suppressed before anything is sent),
 * optionally with Laplace noise (ε-differential privacy over the cell counts).
 */

/** Default minimum cell size (k-anonymity): a count below it is never released. */
export const DEFAULT_MIN_CELL = 10;
/** Default age band cut points: 0-17, 18-44, 45-64, 65-79, 80+ (plus `unknown`). */
export const DEFAULT_AGE_BANDS: readonly number[] = [18, 45, 65, 80];
/** The band of twins without a usable birth date. */
export const UNKNOWN_AGE_BAND = 'unknown';

/** Age band cut points: strictly increasing whole years in (0, 130), each the first age of a new band. */
export const AgeBandsSchema = z
  .array(z.number().int().min(1).max(129))
  .min(1)
  .max(20)
  .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]!), { message: 'age band cut points must increase strictly' })
  .describe(
    'Age band cut points: strictly increasing whole years in (0, 130), each the first age of a new band (`[18, 65]` → 0-17, 18-64, 65+, unknown).',
  );

/**
 * The names of the bands that cut points make, youngest first, then `unknown`:
 * `[18, 65]` → `0-17`, `18-64`, `65+`, `unknown`.
 */
export function ageBandNames(cuts: readonly number[] = DEFAULT_AGE_BANDS): string[] {
  const names: string[] = [];
  let lo = 0;
  for (const cut of cuts) {
    names.push(`${lo}-${cut - 1}`);
    lo = cut;
  }
  names.push(`${lo}+`, UNKNOWN_AGE_BAND);
  return names;
}

/** The band of an age in years (`unknown` for null or non-finite). */
export function ageBandOf(age: number | null, cuts: readonly number[] = DEFAULT_AGE_BANDS): string {
  if (age === null || !Number.isFinite(age)) return UNKNOWN_AGE_BAND;
  const names = ageBandNames(cuts);
  let i = 0;
  while (i < cuts.length && age >= cuts[i]!) i++;
  return names[i]!;
}

/**
 * Population reporting settings of a plan (`plan.data.population`): the minimum cell size `k`, the optional
 * privacy budget `epsilon` of the Laplace noise (scale 1/ε per cell; absent means exact counts) and the age
 * band cut points.
 */
export const PopulationSettingsSchema = z
  .object({
    k: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .default(DEFAULT_MIN_CELL)
      .describe('Minimum cell size: a count below k is suppressed before anything leaves the site.'),
    epsilon: z
      .number()
      .positive()
      .max(100)
      .optional()
      .describe('Privacy budget ε of Laplace noise (scale 1/ε) on every released count; absent: exact counts.'),
    ageBands: AgeBandsSchema.default([...DEFAULT_AGE_BANDS]),
  })
  .strict()
  .describe(
    'What a site may tell the consortium about its scored twins: counts per risk tier × age band, each at least k.',
  );

const count = z.number().int().min(0).max(1e9).nullable();
/** A tier name (a printable name, see schemas/names). */
const name = nameKeySchema(32);
/** An age band name as {@link ageBandNames} makes them: `0-17`, `80+`, `unknown`. */
const bandName = z.string().regex(/^(?:\d{1,3}-\d{1,3}|\d{1,3}\+|unknown)$/, 'an age band: lo-hi, lo+ or unknown');

/** One released cell: the number of scored twins of a tier in an age band, or null when suppressed. */
export const PopulationCellSchema = z.object({ tier: name, ageBand: bandName, count }).strict();

/**
 * A site's population report for one model version. Every released count (cells and totals) is at least `k`;
 * null means suppressed. Cells cover every tier × age band exactly once. `epsilon` is null for exact counts.
 */
export const PopulationReportSchema = z
  .object({
    versionId: z.string().min(1).max(128),
    /** Snapshot time of the scores (ISO 8601). */
    at: z.string().min(1).max(40),
    k: z.number().int().min(2).max(1000),
    epsilon: z.number().positive().max(100).nullable(),
    tiers: z.array(name).min(2).max(10),
    ageBands: z.array(bandName).min(2).max(22),
    cells: z.array(PopulationCellSchema).max(220),
    totals: z
      .object({
        all: count,
        byTier: z.array(z.object({ tier: name, count }).strict()),
        byAgeBand: z.array(z.object({ ageBand: bandName, count }).strict()),
      })
      .strict(),
    /** How many cells are null (primary and secondary suppression). */
    suppressedCells: z.number().int().min(0),
  })
  .strict()
  .superRefine((r, ctx) => {
    const released = [
      ...r.cells.map((c) => c.count),
      r.totals.all,
      ...r.totals.byTier.map((t) => t.count),
      ...r.totals.byAgeBand.map((b) => b.count),
    ];
    if (released.some((c) => c !== null && c < r.k))
      ctx.addIssue({ code: 'custom', path: ['cells'], message: `a released count is below k = ${r.k}` });
    const want = new Set(r.tiers.flatMap((t) => r.ageBands.map((b) => `${t}\u0000${b}`)));
    const have = r.cells.map((c) => `${c.tier}\u0000${c.ageBand}`);
    if (have.length !== want.size || new Set(have).size !== have.length || have.some((h) => !want.has(h))) {
      ctx.addIssue({ code: 'custom', path: ['cells'], message: 'cells must cover every tier × age band exactly once' });
    }
    if (r.suppressedCells !== r.cells.filter((c) => c.count === null).length) {
      ctx.addIssue({
        code: 'custom',
        path: ['suppressedCells'],
        message: 'suppressedCells must equal the number of null cells',
      });
    }
  });
/** A site's population report (see {@link PopulationReportSchema}). */
export type PopulationReport = z.infer<typeof PopulationReportSchema>;
