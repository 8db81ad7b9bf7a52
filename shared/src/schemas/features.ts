import { z } from 'zod';

/**
 * The feature schema of a twin federation: how every site turns a patient's digital twin into the same
 * model inputs, the label and the risk tiers. Sites derive features from the plan alone, so two sites with
 * the same twin data produce bit-identical rows.
 */

/** Milliseconds in a day (windows are whole days, counted back from the snapshot time). */
export const DAY_MS = 86_400_000;

const code = z.string().min(1).max(64);
const codes = z.array(code).min(1).max(1000);
const codesOf = (what: string) => codes.describe(what);

/**
 * A set of diagnosis codes in one system. A code ending in `*` matches by prefix (`E11*` matches `E11.9`);
 * ICD-10 codes are compared upper-case and without dots (`J18.9` ≡ `J189`).
 */
const CodeSetSchema = z
  .object({
    system: z
      .enum(['snomed', 'icd10', 'other'])
      .describe('The code system: SNOMED CT, ICD-10, or another local system.'),
    codes: codesOf(
      'Codes of that system; a code ending in `*` matches by prefix (`E11*` matches `E11.9`); ICD-10 codes compare upper-case without dots.',
    ),
  })
  .strict()
  .describe('A set of diagnosis codes in one system.');
/** A set of diagnosis codes (see {@link CodeSetSchema}). */
export type CodeSet = z.infer<typeof CodeSetSchema>;

/** Observations with any of these LOINC codes (e.g. `['40443-4']`, resting heart rate). */
const ObservationSourceSchema = z
  .object({ loinc: codesOf('LOINC codes of the observations to use (e.g. `40443-4`, resting heart rate).') })
  .strict()
  .describe('Observations with any of these LOINC codes.');
/** Conditions in any of these code sets. */
const ConditionSourceSchema = z
  .object({
    conditionCodes: z
      .array(CodeSetSchema)
      .min(1)
      .max(20)
      .describe('Code sets; a condition matching any of them counts.'),
  })
  .strict()
  .describe('Conditions in any of these code sets.');
/** Immunizations with any of these CVX codes. */
const ImmunizationSourceSchema = z
  .object({ cvx: codesOf('CVX vaccine codes.') })
  .strict()
  .describe('Immunizations with any of these CVX codes.');
/** Exposures of any of these kinds (e.g. `['household-contact']`). */
const ExposureSourceSchema = z
  .object({ exposureKind: codesOf('Exposure kinds (e.g. `household-contact`).') })
  .strict()
  .describe('Exposures of any of these kinds.');
/** Where a count looks: observations, conditions, immunizations or exposures. */
const EventSourceSchema = z
  .union([ObservationSourceSchema, ConditionSourceSchema, ImmunizationSourceSchema, ExposureSourceSchema])
  .describe(
    'Where a count looks: `{loinc}` observations, `{conditionCodes}` conditions, `{cvx}` immunizations or `{exposureKind}` exposures.',
  );
/** A source of events (see {@link EventSourceSchema}). */
export type EventSource = z.infer<typeof EventSourceSchema>;

/**
 * What a site does when a twin has no data for a feature:
 * - `mean`: the mean of the observed values over the site's training rows (or federated statistics when given);
 * - `zero`: 0; `value`: the given `value`;
 * - `indicator`: fills like `mean` (or with `value` when given) and adds a 0/1 column `<name>.missing` right after it.
 */
const MissingPolicySchema = z
  .object({
    policy: z
      .enum(['mean', 'zero', 'value', 'indicator'])
      .describe(
        '`mean`: the mean of the observed values of the training rows (or the federated statistics); `zero`: 0; `value`: the given value; `indicator`: fills like `mean` (or with `value` when given) and adds a 0/1 input `<name>.missing` right after it.',
      ),
    value: z.number().finite().optional().describe('The fill value (required by `value`, optional with `indicator`).'),
  })
  .strict()
  .refine((m) => m.policy !== 'value' || m.value !== undefined, { message: 'policy "value" needs a value' })
  .describe('What a site does when a twin has no data for the feature.');

const windowDays = z
  .number()
  .int()
  .min(1)
  .max(36_500)
  .describe(
    'Look-back window in whole days before the snapshot time (`at − windowDays·1 day < t ≤ at`); absent: all history up to the snapshot.',
  );
const common = {
  /** Model input name: letters, digits and underscores, starting with a letter. */
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'letters, digits and underscores, starting with a letter')
    .describe('Model input name: letters, digits and underscores, starting with a letter.'),
  /** Words a clinician reads in explanations (e.g. `resting heart rate 7-day mean`); derived from the kind and codes when absent. */
  label: z
    .string()
    .min(1)
    .max(120)
    .optional()
    .describe(
      'Words a clinician reads in explanations (e.g. `resting heart rate 7-day mean`); derived from the kind and codes when absent.',
    ),
  missing: MissingPolicySchema.default({ policy: 'zero' }),
  /** Raw values are clipped into [lo, hi] before the missing-value policy applies. */
  clip: z
    .tuple([z.number().finite(), z.number().finite()])
    .refine(([lo, hi]) => lo <= hi, 'clip needs lo ≤ hi')
    .optional()
    .describe('`[lo, hi]`: raw values are clipped into this range before the missing-value policy applies.'),
};

/**
 * One model input derived from a twin at snapshot time `at`. A window of `windowDays` covers
 * `at − windowDays·DAY_MS < t ≤ at` (events after `at` are never seen; no window means all history up to `at`).
 * - `latest` | `mean` | `min` | `max`: of observations with the LOINC codes and exactly the canonical UCUM `unit`
 *   (observations in another unit are ignored, never mixed); missing when there are none.
 * - `slope`: least-squares slope of value against time in days (unit per day, e.g. `%/d`); missing with fewer
 *   than two distinct times.
 * - `count`: number of matching events in the window (never missing).
 * - `onehot`: 1 when a matching condition is active at `at` (onset ≤ `at` or unknown, not abated by `at`);
 *   with a window, the onset must fall inside it. Never missing.
 * - `age`: completed years at `at` from the birth date (`YYYY` counts from 1 July, `YYYY-MM` from the 15th);
 *   missing without a valid birth date.
 * - `sex`: 1 when the recorded sex equals `equals`, 0 for another known sex, missing when `unknown` or `other`
 *   (unless `equals` is `other`).
 * - `vaccinated` | `exposed`: 1 when a matching immunization / exposure falls in the window, else 0.
 */
const obsUnit = z
  .string()
  .min(1)
  .max(40)
  .describe(
    'The canonical UCUM unit of the values (e.g. `/min`, `%`, `mm[Hg]`); observations in another unit are ignored, never mixed.',
  );
const kinds = {
  observation: z
    .enum(['latest', 'mean', 'min', 'max', 'slope'])
    .describe(
      '`latest`, `mean`, `min`, `max` of the observations in the window (missing when there are none); `slope`: least-squares slope of value against time in days (missing with fewer than two distinct times).',
    ),
  count: z.literal('count').describe('Number of matching events in the window (never missing).'),
  onehot: z
    .literal('onehot')
    .describe(
      '1 when a matching condition is active at the snapshot (onset ≤ at or unknown, not abated); with a window the onset must fall inside it. Never missing.',
    ),
  age: z
    .literal('age')
    .describe(
      'Completed years at the snapshot from the birth date (`YYYY` counts from 1 July, `YYYY-MM` from the 15th); missing without a valid birth date.',
    ),
  sex: z
    .literal('sex')
    .describe(
      '1 when the recorded sex equals `equals`, 0 for another known sex; missing when unknown or other (unless equals is other).',
    ),
  vaccinated: z.literal('vaccinated').describe('1 when a matching immunization falls in the window, else 0.'),
  exposed: z.literal('exposed').describe('1 when a matching exposure falls in the window, else 0.'),
};
export const FeatureDerivationSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        ...common,
        kind: kinds.observation,
        source: ObservationSourceSchema,
        unit: obsUnit,
        windowDays: windowDays.optional(),
      })
      .strict(),
    z.object({ ...common, kind: kinds.count, source: EventSourceSchema, windowDays: windowDays.optional() }).strict(),
    z
      .object({ ...common, kind: kinds.onehot, source: ConditionSourceSchema, windowDays: windowDays.optional() })
      .strict(),
    z.object({ ...common, kind: kinds.age }).strict(),
    z
      .object({
        ...common,
        kind: kinds.sex,
        equals: z.enum(['female', 'male', 'other']).default('female').describe('The sex that gives 1.'),
      })
      .strict(),
    z
      .object({
        ...common,
        kind: kinds.vaccinated,
        source: ImmunizationSourceSchema,
        windowDays: windowDays.optional(),
      })
      .strict(),
    z
      .object({ ...common, kind: kinds.exposed, source: ExposureSourceSchema, windowDays: windowDays.optional() })
      .strict(),
  ])
  .describe('One model input derived from a twin at the snapshot time, selected by `kind`.');
/** A feature derivation (see {@link FeatureDerivationSchema}). */
export type FeatureDerivation = z.infer<typeof FeatureDerivationSchema>;
/** A feature derivation as written in a plan, before defaults. */
export type FeatureDerivationInput = z.input<typeof FeatureDerivationSchema>;

/** One model input column: a derivation's value, or the 0/1 missing indicator the `indicator` policy adds. */
export interface FeatureColumn {
  readonly name: string;
  readonly derivation: FeatureDerivation;
  readonly role: 'value' | 'indicator';
}

/** The model input columns of a list of derivations, in order (a derivation with the `indicator` policy adds `<name>.missing`). */
export function featureColumns(derivations: readonly FeatureDerivation[]): FeatureColumn[] {
  const out: FeatureColumn[] = [];
  for (const derivation of derivations) {
    out.push({ name: derivation.name, derivation, role: 'value' });
    if (derivation.missing.policy === 'indicator')
      out.push({ name: `${derivation.name}.missing`, derivation, role: 'indicator' });
  }
  return out;
}

/** The model input names of a list of derivations: what `plan.data.features` must list, in this order. */
export function featureNames(derivations: readonly FeatureDerivation[]): string[] {
  return featureColumns(derivations).map((c) => c.name);
}

/**
 * How a site labels a twin for training.
 * - `condition-onset`: 1 when a condition in `conditionCodes` has its onset in `(at, at + horizonDays·DAY_MS]`,
 *   else 0. With `excludePrior` (default), a twin in whom such a condition is already active at `at` gets no
 *   label and stays out of training and evaluation.
 * - `time-to-event` (Cox models): the days from `at` to the first onset of such a condition in
 *   `(at, at + horizonDays·DAY_MS]` (event 1); without one, censored (event 0) at the twin's last record (its latest
 *   observation, immunization, exposure or condition onset or abatement) or at the horizon, whichever comes first. A
 *   twin with no record after `at` was not followed up and gets no label; `excludePrior` as for `condition-onset`.
 * - `stored`: the twin store's own label (`TwinSnapshot.label`); twins without one stay out.
 */
const excludePrior = z
  .boolean()
  .default(true)
  .describe(
    'A twin in whom such a condition is already active at the snapshot gets no label and stays out of training and evaluation.',
  );
export const LabelDerivationSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z
          .literal('condition-onset')
          .describe(
            '1 when a condition in conditionCodes has its onset within horizonDays after the snapshot, else 0.',
          ),
        conditionCodes: z.array(CodeSetSchema).min(1).max(20).describe('The outcome’s code sets.'),
        horizonDays: z
          .number()
          .int()
          .min(1)
          .max(3650)
          .describe('Days after the snapshot in which an onset counts as positive.'),
        excludePrior,
      })
      .strict(),
    z
      .object({
        kind: z
          .literal('time-to-event')
          .describe(
            'For Cox models: days from the snapshot to the first onset of a condition in conditionCodes (event 1); without one, censored (event 0) at the twin’s last record or at the horizon, whichever comes first. A twin with no record after the snapshot was not followed up and gets no label.',
          ),
        conditionCodes: z.array(CodeSetSchema).min(1).max(20).describe('The outcome’s code sets.'),
        horizonDays: z
          .number()
          .int()
          .min(1)
          .max(3650)
          .describe(
            'Days of follow-up after the snapshot: an onset later than this is not an event, and twins still free of the outcome are censored here (at the latest).',
          ),
        excludePrior,
      })
      .strict(),
    z
      .object({
        kind: z
          .literal('stored')
          .describe('The twin store’s own label (from an ingested label column or FHIR); twins without one stay out.'),
      })
      .strict(),
  ])
  .describe('How a site labels a twin for training, selected by `kind`.');
/** A label derivation (see {@link LabelDerivationSchema}). */
export type LabelDerivation = z.infer<typeof LabelDerivationSchema>;

/**
 * Risk tiers on the susceptibility score: `thresholds` strictly increasing in (0, 1), one more name than
 * thresholds. A score s is in tier i when `thresholds[i−1] ≤ s < thresholds[i]`
 * (default: low < 0.2 ≤ medium < 0.5 ≤ high).
 */
export const RiskTiersSchema = z
  .object({
    thresholds: z
      .array(z.number().gt(0).lt(1))
      .min(1)
      .max(9)
      .describe(
        'Strictly increasing cut points in (0, 1): a score s is in tier i when thresholds[i−1] ≤ s < thresholds[i].',
      ),
    names: z
      .array(
        z
          .string()
          .min(1)
          .max(32)
          .regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
      )
      .min(2)
      .max(10)
      .describe(
        'Distinct tier names, lowest risk first (lower-case letters, digits, dashes): one more than thresholds.',
      ),
  })
  .strict()
  .refine((t) => t.names.length === t.thresholds.length + 1, {
    message: 'tiers need exactly one more name than thresholds',
  })
  .refine((t) => t.thresholds.every((v, i) => i === 0 || v > t.thresholds[i - 1]!), {
    message: 'tier thresholds must increase strictly',
  })
  .refine((t) => new Set(t.names).size === t.names.length, { message: 'tier names must be distinct' })
  .describe('Risk tiers on the susceptibility score.');
/** Risk tiers (see {@link RiskTiersSchema}). */
export type RiskTiers = z.infer<typeof RiskTiersSchema>;

/** The tiers a plan without `data.tiers` uses: low < 0.2 ≤ medium < 0.5 ≤ high. */
export const DEFAULT_RISK_TIERS: RiskTiers = { thresholds: [0.2, 0.5], names: ['low', 'medium', 'high'] };

/** The tier name of a score in [0, 1]. Throws a `RangeError` on a non-finite score. */
export function tierOf(score: number, tiers: RiskTiers = DEFAULT_RISK_TIERS): string {
  if (!Number.isFinite(score)) throw new RangeError(`score ${score} is not finite`);
  let i = 0;
  while (i < tiers.thresholds.length && score >= tiers.thresholds[i]!) i++;
  return tiers.names[i]!;
}
