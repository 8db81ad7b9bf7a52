/**
 * Federated cohort statistics ("look before you train"): a researcher or the operator asks, for a study, for counts
 * and summary statistics of the sites' eligible rows (twins or CSV rows), grouped by up to two dimensions; each site
 * answers from its own data under its own policy (k floor, optional Laplace noise on counts) or refuses with a reason
 * code; the coordinator shows each site's table as sent and the combined table. See docs/cohort-statistics.md.
 *
 * Everything here is the wire format: the query, a site's answer (a released table or a refusal), and the views the
 * coordinator serves. The grid of a query (dimensions and their levels, {@link cohortGrid}) is computed from the query
 * alone, so every site answers over the same cells and the coordinator checks an answer against it.
 */
import { z } from 'zod';
import { FeatureDerivationSchema, featureNames } from './features';
import { CohortMemberSchema } from './api';
import { IdSchema } from './ids';
import { AgeBandsSchema, ageBandNames, UNKNOWN_AGE_BAND } from './population';

/** The k floor every site applies at least (a count below it is never released). */
export const COHORT_MIN_K = 10;
/** At most this many cells in a query's grid (levels of the first dimension × levels of the second). */
const COHORT_MAX_CELLS = 400;

/** A feature name of the plan vocabulary: a derivation's `name` (twins), a CSV mapping's `name`, or `age`/`label`. */
const CohortFeatureNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'letters, digits, `_`, `.` and `-`, starting with a letter')
  .describe(
    'A feature name the sites understand: a `derive` entry’s `name` (twins), a CSV mapping’s feature `name` (csv), `age`, or `label` (csv: the outcome, 0/1).',
  );

/** The row every twin site adds to a twin query without a derivation of that name: completed years at `at`. */
export const COHORT_TWIN_AGE = 'age';
/** The outcome column of a tabular site (0/1), available as a feature of a `csv` query. */
export const COHORT_CSV_LABEL = 'label';

const finite = z.number().finite();

/** Where the sites take their rows from; which local data is used is the site's choice when it answers. */
const CohortSourceSchema = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        kind: z
          .literal('twins')
          .describe('The twin store: one row per twin whose latest `model-training` consent is permit.'),
        derive: z
          .array(FeatureDerivationSchema)
          .max(50)
          .default([])
          .describe(
            'Features derived from each twin exactly as a plan’s `data.derive` says (names must be distinct); `age` (from the birth date) is always available.',
          ),
        at: z
          .string()
          .max(40)
          .refine((v) => /(Z|[+-]\d\d:\d\d)$/.test(v) && !Number.isNaN(Date.parse(v)), {
            message: 'an ISO 8601 date-time with a zone',
          })
          .optional()
          .describe('Snapshot time (ISO 8601) of derivations and ages; absent: when the site answers.'),
      })
      .describe('Rows are the site’s consenting twins.'),
    z
      .strictObject({
        kind: z
          .literal('csv')
          .describe(
            'The site’s tabular data (`--data <csv> --mapping <json>` or `--heart-disease <center>`): one row per usable CSV row, features named by the mapping, plus `label`.',
          ),
      })
      .describe('Rows are the site’s tabular rows.'),
  ])
  .describe('Where the sites take their rows from.');

const cuts = z
  .array(finite)
  .min(1)
  .max(19)
  .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]!), { message: 'cut points must increase strictly' });

/** One grouping dimension. A row whose value has no level (missing, or not among `values`) is left out of the table. */
export const CohortGroupBySchema = z
  .discriminatedUnion('kind', [
    z
      .strictObject({
        kind: z.literal('ageBand').describe('Age bands: `[18, 65]` → 0-17, 18-64, 65+.'),
        cuts: AgeBandsSchema,
        feature: CohortFeatureNameSchema.default(COHORT_TWIN_AGE).describe(
          'The feature holding the age in years (default `age`; twins: from the birth date).',
        ),
      })
      .describe('Age bands of a feature in years.'),
    z
      .strictObject({
        kind: z.literal('category').describe('A binary or categorical feature coded as numbers.'),
        feature: CohortFeatureNameSchema,
        values: z
          .array(finite)
          .min(1)
          .max(20)
          .refine((v) => new Set(v).size === v.length, { message: 'values must be distinct' })
          .describe('The codes that make the levels, in this order (e.g. `[0, 1]`).'),
        labels: z
          .array(
            z
              .string()
              .min(1)
              .max(32)
              .regex(/^[A-Za-z0-9][A-Za-z0-9 _.+<>=-]*$/, 'a short printable label'),
          )
          .max(20)
          .optional()
          .describe('A name per value (default: the value as written).'),
      })
      .refine((g) => g.labels === undefined || g.labels.length === g.values.length, {
        message: 'labels need one name per value',
      })
      .refine((g) => g.labels === undefined || new Set(g.labels).size === g.labels.length, {
        message: 'labels must be distinct',
      })
      .describe('Levels of a coded feature.'),
    z
      .strictObject({
        kind: z.literal('bins').describe('A numeric feature cut into intervals: `[30]` → <30, >=30.'),
        feature: CohortFeatureNameSchema,
        cuts: cuts.describe('Strictly increasing cut points; each starts a new interval (closed below).'),
      })
      .describe('Intervals of a numeric feature.'),
  ])
  .describe('One dimension of the table.');
export type CohortGroupBy = z.infer<typeof CohortGroupBySchema>;

/** The statistics a site may compute per group and feature. */
const COHORT_STATISTICS = ['mean', 'sd', 'quartiles'] as const;

/** Summary statistics of numeric features per group. */
const CohortSummariesSchema = z
  .strictObject({
    features: z
      .array(CohortFeatureNameSchema)
      .min(1)
      .max(20)
      .refine((f) => new Set(f).size === f.length, { message: 'features must be distinct' })
      .describe('The numeric features to summarise.'),
    statistics: z
      .array(z.enum(COHORT_STATISTICS))
      .min(1)
      .max(3)
      .default([...COHORT_STATISTICS])
      .refine((s) => new Set(s).size === s.length, { message: 'statistics must be distinct' })
      .describe(
        '`mean`, `sd` (sample standard deviation) and `quartiles` (q1, median, q3; linear interpolation, type 7) of each group with at least k values.',
      ),
    pooled: z
      .union([z.boolean(), z.literal('secure')])
      .default(false)
      .describe(
        'Pooled mean and variance across sites. `true` (clear pooling, the default way to pool): each site also sends n, Σx and Σx² per group in its table and the coordinator pools them. `"secure"`: the sites send no per-site summary at all (n, mean and sd would give Σx and Σx² back); each sends its n, Σx, Σx² per cell and feature only masked, through the secure sum, so the coordinator learns the pooled figures alone (at least 3 answering sites; see docs/cohort-statistics.md).',
      ),
  })
  .describe('Summary statistics of numeric features, per group.');

/** A cohort query (the body a researcher writes in `query.json`). */
export const CohortQuerySchema = z
  .strictObject({
    title: z.string().min(1).max(200).describe('What the query is for, in words (shown to the sites).'),
    source: CohortSourceSchema,
    groupBy: z
      .array(CohortGroupBySchema)
      .max(2)
      .default([])
      .describe('Up to two dimensions; none: one cell, all rows.'),
    counts: z.boolean().default(true).describe('Count the rows of every cell.'),
    summaries: CohortSummariesSchema.optional(),
    k: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .optional()
      .describe(`A minimum cell size to ask for; each site applies max(this, its own k, ${COHORT_MIN_K}).`),
  })
  .superRefine((q, ctx) => {
    if (!q.counts && q.summaries === undefined)
      ctx.addIssue({ code: 'custom', path: ['counts'], message: 'ask for counts, summaries or both' });
    const grouped = q.groupBy.map((g) => g.feature);
    if (new Set(grouped).size !== grouped.length)
      ctx.addIssue({ code: 'custom', path: ['groupBy'], message: 'each feature groups at most once' });
    const cells = q.groupBy.reduce((n, g) => n * levelNames(g).length, 1);
    if (cells > COHORT_MAX_CELLS)
      ctx.addIssue({ code: 'custom', path: ['groupBy'], message: `at most ${COHORT_MAX_CELLS} cells, not ${cells}` });
    if (q.source.kind === 'twins') {
      const derived = featureNames(q.source.derive);
      if (new Set(derived).size !== derived.length)
        ctx.addIssue({ code: 'custom', path: ['source', 'derive'], message: 'derived feature names must be distinct' });
      const known = new Set([...derived, COHORT_TWIN_AGE]);
      for (const f of [...grouped, ...(q.summaries?.features ?? [])])
        if (!known.has(f))
          ctx.addIssue({
            code: 'custom',
            path: ['source', 'derive'],
            message: `feature "${f}" is neither derived nor ${COHORT_TWIN_AGE}`,
          });
    }
  })
  .describe('A federated cohort statistics query.');
/** A validated query (defaults filled in). */
export type CohortQuery = z.infer<typeof CohortQuerySchema>;
/** A query as written. */
export type CohortQueryInput = z.input<typeof CohortQuerySchema>;

/** The names of a dimension's levels, in order. */
function levelNames(g: CohortGroupBy): string[] {
  switch (g.kind) {
    case 'ageBand':
      return ageBandNames(g.cuts).filter((b) => b !== UNKNOWN_AGE_BAND);
    case 'category':
      return g.values.map((v, i) => g.labels?.[i] ?? String(v));
    case 'bins':
      return [`<${g.cuts[0]!}`, ...g.cuts.slice(1).map((c, i) => `${g.cuts[i]!} to <${c}`), `>=${g.cuts.at(-1)!}`];
  }
}

/** One dimension of a query's grid: the feature it groups by and its level names. */
interface CohortDimension {
  readonly feature: string;
  readonly levels: readonly string[];
}

/** The grid every answer to `query` covers: its dimensions, and every cell's level names (row-major). */
export function cohortGrid(query: Pick<CohortQuery, 'groupBy'>): {
  dimensions: CohortDimension[];
  cells: string[][];
} {
  const dimensions = query.groupBy.map((g) => ({ feature: g.feature, levels: levelNames(g) }));
  let cells: string[][] = [[]];
  for (const d of dimensions) cells = cells.flatMap((c) => d.levels.map((l) => [...c, l]));
  return { dimensions, cells };
}

/** The index of the level a value falls in, or -1 (missing, or no level holds it). */
export function levelIndex(g: CohortGroupBy, value: number): number {
  if (!Number.isFinite(value)) return -1;
  switch (g.kind) {
    case 'category':
      return g.values.indexOf(value);
    case 'ageBand':
    case 'bins': {
      if (g.kind === 'ageBand' && value < 0) return -1;
      let i = 0;
      while (i < g.cuts.length && value >= g.cuts[i]!) i++;
      return i;
    }
  }
}

/** The features a query reads: its groupings' and its summaries'. */
export function cohortQueryFeatures(query: Pick<CohortQuery, 'groupBy' | 'summaries'>): string[] {
  return [...new Set([...query.groupBy.map((g) => g.feature), ...(query.summaries?.features ?? [])])];
}

const count = z.number().int().min(0).max(1e9);
const stat = finite;

/**
 * One feature's summary in one cell, or null when withheld (fewer than k values, or the cell is suppressed). `n` is
 * the number of non-missing values; `sum`/`sumSq` (Σx, Σx²) only when the query asks for pooled figures.
 */
export const CohortSummarySchema = z.strictObject({
  n: count,
  mean: stat.optional(),
  sd: stat.min(0).optional(),
  q1: stat.optional(),
  median: stat.optional(),
  q3: stat.optional(),
  sum: stat.optional(),
  sumSq: stat.min(0).optional(),
});
export type CohortSummary = z.infer<typeof CohortSummarySchema>;

/** One released cell: its level per dimension, its count (null: suppressed; absent: not asked) and summaries. */
export const CohortCellSchema = z.strictObject({
  levels: z.array(z.string().min(1).max(64)).max(2),
  count: count.nullable().optional(),
  summaries: z.record(CohortFeatureNameSchema, CohortSummarySchema.nullable()).optional(),
});
export type CohortCell = z.infer<typeof CohortCellSchema>;

/**
 * A site's released table. Every released count is at least `k` (smaller cells, and cells whose value the released
 * ones would reveal, are null); `epsilon` is the Laplace budget of the counts' noise (null: exact counts); `total` is
 * the sum of the released cell values of every row in the grid (null when suppressed, absent when counts were not asked).
 */
export const CohortTableSchema = z
  .strictObject({
    k: z.number().int().min(2).max(1000),
    epsilon: z.number().positive().max(100).nullable(),
    cells: z.array(CohortCellSchema).max(COHORT_MAX_CELLS),
    total: count.nullable().optional(),
    suppressedCells: z.number().int().min(0),
  })
  .superRefine((t, ctx) => {
    const released = [...t.cells.map((c) => c.count), t.total].filter((c): c is number => typeof c === 'number');
    if (released.some((c) => c < t.k))
      ctx.addIssue({ code: 'custom', path: ['cells'], message: `a released count is below k = ${t.k}` });
    t.cells.forEach((c, i) => {
      for (const [feature, s] of Object.entries(c.summaries ?? {}))
        if (s !== null && s.n < t.k)
          ctx.addIssue({
            code: 'custom',
            path: ['cells', i, 'summaries', feature],
            message: `a summary of fewer than k = ${t.k} values`,
          });
      if (c.count === null && Object.values(c.summaries ?? {}).some((s) => s !== null))
        ctx.addIssue({ code: 'custom', path: ['cells', i], message: 'a suppressed cell has no summaries' });
    });
    if (t.suppressedCells !== t.cells.filter((c) => c.count === null).length)
      ctx.addIssue({
        code: 'custom',
        path: ['suppressedCells'],
        message: 'suppressedCells must equal the number of null counts',
      });
  });
export type CohortTable = z.infer<typeof CohortTableSchema>;

/** Why a site does not answer. */
export const COHORT_REFUSALS = ['NOT_ALLOWED_BY_POLICY', 'REJECTED_BY_SITE', 'NO_DATA'] as const;
export type CohortRefusalReason = (typeof COHORT_REFUSALS)[number];

/** PUT /v1/cohort-queries/:qid/answers (site, signed): a released table, or a refusal with its reason code. */
export const CohortAnswerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('table'), table: CohortTableSchema }),
  z.strictObject({ kind: z.literal('refusal'), reason: z.enum(COHORT_REFUSALS) }),
]);
export type CohortAnswer = z.infer<typeof CohortAnswerSchema>;

/** POST /v1/cohort-queries: a query for a study. */
export const CreateCohortQuerySchema = z.strictObject({ studyId: IdSchema, query: CohortQuerySchema });
export type CreateCohortQuery = z.input<typeof CreateCohortQuerySchema>;

/** A stored query as readers see it, with how many sites answered and refused so far. */
export const CohortQueryViewSchema = z.object({
  id: IdSchema,
  studyId: IdSchema,
  query: CohortQuerySchema,
  createdBy: z.string(),
  createdAt: z.string(),
  answered: z.number().int().min(0),
  refused: z.number().int().min(0),
});
export type CohortQueryView = z.infer<typeof CohortQueryViewSchema>;

/** GET /v1/sites/self/cohort-queries (site): the queries, each with whether this site answered it. */
export const SiteCohortQuerySchema = z.object({
  id: IdSchema,
  studyId: IdSchema,
  query: CohortQuerySchema,
  createdAt: z.string(),
  answered: z.enum(['table', 'refusal']).nullable(),
});
export type SiteCohortQuery = z.infer<typeof SiteCohortQuerySchema>;

/** PUT …/answers: 201 stored now, 200 the same answer was already stored. */
export const CohortAnswerAckSchema = z.object({
  queryId: IdSchema,
  siteId: IdSchema,
  status: z.enum(['accepted', 'duplicate']),
  digest: z.string(),
});
export type CohortAnswerAck = z.infer<typeof CohortAnswerAckSchema>;

/** A combined count: the sum of the released parts; `atLeast` when some site suppressed its part (the true sum is ≥). */
const CombinedCountSchema = z.object({
  value: z.number().int().min(0),
  atLeast: z.boolean(),
  sites: z.number().int().min(0),
  suppressedSites: z.number().int().min(0),
});

/**
 * Pooled mean and sample variance of one feature in one cell, from the n, Σx, Σx² of `sites` sites: released in the
 * clear, or (secure pooling) summed masked over the pool's cohort, where `sites` is the cohort's size and
 * `withheldSites` is null (the coordinator cannot tell which sites had fewer than k values in the cell).
 */
const PooledSchema = z.object({
  n: z.number().int().min(0),
  mean: z.number(),
  variance: z.number().nullable(),
  sd: z.number().nullable(),
  sites: z.number().int().min(0),
  withheldSites: z.number().int().min(0).nullable(),
});
export type CohortPooled = z.infer<typeof PooledSchema>;

/** The states of a secure pool: `waiting` (not every site has answered yet; nothing stored), then `open`, then `complete` or `failed`. */
const CohortPoolStateSchema = z.enum(['waiting', 'open', 'complete', 'failed']);

/** The pooled figures of a complete secure pool: per grid cell, per summarised feature (null: no value in the cell). */
export const CohortPoolResultSchema = z.object({
  cells: z.array(z.record(z.string(), PooledSchema.nullable())),
});
export type CohortPoolResult = z.infer<typeof CohortPoolResultSchema>;

/**
 * GET /v1/cohort-queries/:qid/pool: the secure pool of a query with `summaries.pooled: "secure"`. The cohort (signed
 * directory entries: the peers' keys a site masks with) is fixed once every asked site has answered or refused: the
 * sites that answered with a table. `length` = 3 × cells × summarised features ([n, Σx, Σx²] each, in fixed point);
 * `result` only once every member contributed; `code` says why a pool failed (COHORT_TOO_SMALL).
 */
export const CohortPoolViewSchema = z.object({
  queryId: IdSchema,
  state: CohortPoolStateSchema,
  length: z.number().int().min(1),
  fractionBits: z.number().int().min(0).max(40),
  cohort: z.array(CohortMemberSchema),
  contributed: z.array(IdSchema),
  code: z.enum(['COHORT_TOO_SMALL']).nullable(),
  result: CohortPoolResultSchema.nullable(),
});
export type CohortPoolView = z.infer<typeof CohortPoolViewSchema>;

/** POST /v1/cohort-queries/:qid/pool (site, signed): its masked [n, Σx, Σx²] vector (base64 little-endian ring elements). */
export const CohortPoolContributionSchema = z.strictObject({
  masked: z
    .string()
    .min(1)
    .max(1_400_000)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
});
export type CohortPoolContribution = z.infer<typeof CohortPoolContributionSchema>;

/** POST …/pool: 201 stored now, 200 the same bytes were already stored; how many of the cohort have contributed. */
export const CohortPoolAckSchema = z.object({
  queryId: IdSchema,
  siteId: IdSchema,
  status: z.enum(['accepted', 'duplicate']),
  contributed: z.number().int().min(0),
  cohort: z.number().int().min(0),
  state: CohortPoolStateSchema,
});
export type CohortPoolAck = z.infer<typeof CohortPoolAckSchema>;

/**
 * GET /v1/cohort-queries/:qid: each site's table as sent, and the combined table. Every enrolled site is asked; a
 * researcher sees the sites that answered and, by name, the pending ones of its studies' federations; the other
 * pending sites only as a number (`pendingUnnamed`), so which hospitals are in other studies does not leak.
 */
export const CohortResultSchema = z.object({
  query: CohortQueryViewSchema,
  pendingUnnamed: z.number().int().min(0),
  sites: z.array(
    z.object({
      siteId: IdSchema,
      name: z.string(),
      status: z.enum(['answered', 'refused', 'pending']),
      at: z.string().nullable(),
      reason: z.enum(COHORT_REFUSALS).nullable(),
      table: CohortTableSchema.nullable(),
    }),
  ),
  combined: z.object({
    dimensions: z.array(z.object({ feature: z.string(), levels: z.array(z.string()) })),
    cells: z.array(
      z.object({
        levels: z.array(z.string()),
        count: CombinedCountSchema.nullable(),
        pooled: z.record(z.string(), PooledSchema.nullable()).nullable(),
      }),
    ),
    total: CombinedCountSchema.nullable(),
  }),
  /** Secure pooling only (null otherwise): the pool's state, its cohort size, who contributed, why it failed. */
  pool: z
    .object({
      state: CohortPoolStateSchema,
      cohort: z.number().int().min(0),
      contributed: z.number().int().min(0),
      code: z.enum(['COHORT_TOO_SMALL']).nullable(),
    })
    .nullable(),
});
export type CohortResult = z.infer<typeof CohortResultSchema>;
