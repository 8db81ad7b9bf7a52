/**
 * The site's policy: the rules a hospital sets for what may run on its data (`<data dir>/policy.json`, validated
 * here, documented in docs/site-policy.md). One evaluation decides whether a plan conforms: the rules of the file plus
 * the privacy floors of the site configuration (`privacy.*`, the flags of `twinfed-site run`), the stricter of the two
 * winning. `autoApprove` and `autoReject` say what the site does with a plan without a human.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_MIN_CELL,
  ModelSpecSchema,
  StrategySchema,
  TwinfedError,
  canonicalJson,
  dpMechanism,
  planEpsilon,
  sha256Hex,
  type Plan,
} from '@twinfed/shared';
import { CohortPolicySchema } from '../cohort/policy';
import { POLICY_FILE } from './policy-file';

const MODEL_KINDS = ModelSpecSchema.options.map((o) => o.shape.kind.value) as [string, ...string[]];
const STRATEGY_NAMES = StrategySchema.options.map((o) => o.shape.name.value) as [string, ...string[]];
const names = (what: string) => z.array(z.string().min(1).max(200)).max(100_000).describe(`${what} Absent: any.`);

/** The site policy file (every field optional; a missing file is the empty policy: no rule, nothing automatic). */
export const SitePolicySchema = z
  .strictObject({
    allowedFeatures: names(
      'The model inputs (plan `data.features`) this site lets a plan use; a derived `<name>.missing` indicator is allowed with `<name>`.',
    ).optional(),
    allowedLabels: names('The outcomes (plan `data.label`) this site lets a plan learn.').optional(),
    allowedModelKinds: z
      .array(z.enum(MODEL_KINDS))
      .optional()
      .describe(`The model kinds (plan \`model.kind\`) this site trains: ${MODEL_KINDS.join(', ')}. Absent: any.`),
    allowedStrategies: z
      .array(z.enum(STRATEGY_NAMES))
      .optional()
      .describe(
        `The aggregation strategies (plan \`strategy.name\`) this site takes part in: ${STRATEGY_NAMES.join(', ')}. Absent: any.`,
      ),
    requireSecureAggregation: z
      .boolean()
      .optional()
      .describe(
        'Take part only when the plan uses secure aggregation (the coordinator sees only the sum of the updates).',
      ),
    dp: z
      .strictObject({
        required: z.boolean().optional().describe('Take part only when the plan uses differential privacy.'),
        maxEpsilon: z
          .number()
          .positive()
          .max(1000)
          .optional()
          .describe(
            'Take part only when the plan spends at most this ε over all its rounds (a plan without DP spends an unbounded ε).',
          ),
      })
      .optional()
      .describe('Differential privacy the site asks for.'),
    maxRounds: z.int().min(1).max(100_000).optional().describe('Take part only in plans of at most this many rounds.'),
    minSitesPerRound: z
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe(
        'Minimum cohort size per round: take part only when the plan’s `minSites` (the fewest sites a round aggregates) is at least this.',
      ),
    populationReports: z
      .strictObject({
        allowed: z
          .boolean()
          .describe('Whether this site sends population reports at all: false refuses a plan with `data.population`.'),
        k: z
          .int()
          .min(2)
          .max(1000)
          .optional()
          .describe(
            'This site’s own minimum cell size: it suppresses cells below the larger of this and the plan’s k.',
          ),
      })
      .optional()
      .describe('Population reports (k-anonymous counts of scored twins per risk tier × age band).'),
    crossSiteEvaluation: z
      .strictObject({
        allowed: z
          .boolean()
          .describe(
            'Take part in cross-site evaluations. false: the site answers each with a refusal; its local-only model is never trained or sent, and it evaluates no other site’s.',
          ),
      })
      .optional()
      .describe(
        'The cross-site evaluation matrix at the end of a federation whose plan asks for it (plan `crossSiteEvaluation`). Absent: take part (the approved plan asked for it). Not a plan rule: a refusal leaves this site out of the matrix only.',
      ),
    autoApprove: z
      .boolean()
      .optional()
      .describe(
        'Approve, without a human, a plan that satisfies every rule (recorded in the audit chain as by policy). Default false: a human runs `twinfed-site plans approve`.',
      ),
    autoReject: z
      .boolean()
      .optional()
      .describe(
        'Record a rejection (and tell the coordinator) for a plan that breaks a rule. Default true. Either way the site does not train on it.',
      ),
    cohortQueries: CohortPolicySchema.optional().describe(
      'Which federated cohort statistics queries this site answers, and how (docs/cohort-statistics.md); not a plan rule.',
    ),
  })
  .describe('What this site lets run on its data, and what it decides without a human.');

/** A site policy (see {@link SitePolicySchema}). */
export type SitePolicy = z.infer<typeof SitePolicySchema>;

/**
 * The site configuration's privacy floors (`privacy.*`: flags of `twinfed-site run` and `TWINFED_*` variables). They
 * add to the policy file's rules ({@link withPrivacyFloors}).
 */
export interface PrivacyFloors {
  /** Train only when the plan uses secure aggregation (`requireSecureAggregation`). */
  readonly requireSecureAggregation?: boolean;
  /** Train only when the plan uses differential privacy (`dp.required`). */
  readonly requireDp?: boolean;
  /** Train only when the plan's DP spends at most this ε over all its rounds (`dp.maxEpsilon`). */
  readonly maxEpsilon?: number;
  /** Suppress population cells below at least this k, whatever the plan's k (`populationReports.k`). */
  readonly minPopulationK?: number;
}

/** The rules of a policy, as named in the verdict lines. */
export type PolicyRule =
  | 'allowedFeatures'
  | 'allowedLabels'
  | 'allowedModelKinds'
  | 'allowedStrategies'
  | 'requireSecureAggregation'
  | 'dp.required'
  | 'dp.maxEpsilon'
  | 'maxRounds'
  | 'minSitesPerRound'
  | 'populationReports.allowed'
  | 'populationReports.k';

/** One rule's verdict in words. */
export interface PolicyLine {
  rule: PolicyRule;
  ok: boolean;
  message: string;
}

/** The verdict of a policy on a plan: `violates` when any rule fails; one line per rule the policy sets. */
export interface PolicyEvaluation {
  verdict: 'conforms' | 'violates';
  lines: PolicyLine[];
}

/** The policy file as read: the policy (empty when there is no file), and the digest of its content (null then). */
export interface LoadedPolicy {
  policy: SitePolicy;
  /** sha256 of the canonical JSON of the file's content, or null without a file. */
  digest: string | null;
  file: string;
}

/** The digest of a policy (sha256 of its canonical JSON): the same rules written differently have the same digest. */
export function policyDigest(policy: SitePolicy): string {
  return sha256Hex(canonicalJson(policy));
}

/** Reads `<dataDir>/policy.json`: absent is the empty policy; unreadable or invalid is `POLICY_INVALID` naming the problem. */
export function readPolicyFile(dataDir: string): LoadedPolicy {
  const file = path.join(dataDir, POLICY_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { policy: {}, digest: null, file };
    throw new TwinfedError('POLICY_INVALID', `The site policy ${file} cannot be read: ${(e as Error).message}`);
  }
  return { ...parsePolicy(text, file), file };
}

/** Parses the text of a policy file (`where` names it in errors). */
export function parsePolicy(text: string, where: string): { policy: SitePolicy; digest: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new TwinfedError('POLICY_INVALID', `The site policy ${where} is not valid JSON.`);
  }
  const parsed = SitePolicySchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new TwinfedError(
      'POLICY_INVALID',
      `The site policy ${where} is invalid: ${issues.join('; ')}. See docs/site-policy.md.`,
      { details: issues },
    );
  }
  return { policy: parsed.data, digest: policyDigest(parsed.data) };
}

/**
 * The policy in force: the file's rules with the site configuration's privacy floors added, the stricter winning
 * (secure aggregation or DP required by either; the smaller maximum ε; the larger population k).
 */
export function withPrivacyFloors(policy: SitePolicy, floors: PrivacyFloors): SitePolicy {
  const out: SitePolicy = { ...policy };
  if (floors.requireSecureAggregation) out.requireSecureAggregation = true;
  if (floors.requireDp || floors.maxEpsilon !== undefined) {
    const dp = { ...policy.dp };
    if (floors.requireDp) dp.required = true;
    if (floors.maxEpsilon !== undefined) dp.maxEpsilon = Math.min(dp.maxEpsilon ?? Infinity, floors.maxEpsilon);
    out.dp = dp;
  }
  if (floors.minPopulationK !== undefined) {
    const reports = policy.populationReports ?? { allowed: true };
    out.populationReports = { ...reports, k: Math.max(reports.k ?? 0, floors.minPopulationK) };
  }
  return out;
}

/** The cell size this site suppresses below for a plan: the larger of the plan's k and the site's own. */
export function effectivePopulationK(plan: Pick<Plan, 'data'>, policy: SitePolicy): number {
  return Math.max(plan.data.population?.k ?? DEFAULT_MIN_CELL, policy.populationReports?.k ?? 0);
}

const list = (xs: readonly string[]): string => (xs.length === 0 ? '(none)' : xs.join(', '));

/** Whether `feature` is in `allowed`: a derived `<name>.missing` indicator is allowed with `<name>`. */
function featureAllowed(feature: string, allowed: ReadonlySet<string>): boolean {
  return allowed.has(feature) || (feature.endsWith('.missing') && allowed.has(feature.slice(0, -'.missing'.length)));
}

function allowedLine(rule: PolicyRule, what: string, used: readonly string[], allowed: readonly string[]): PolicyLine {
  const set = new Set(allowed);
  const outside = used.filter((u) => !(rule === 'allowedFeatures' ? featureAllowed(u, set) : set.has(u)));
  return outside.length === 0
    ? { rule, ok: true, message: `${what}: ${list(used)} — allowed by this site` }
    : {
        rule,
        ok: false,
        message: `${what}: the plan uses ${list(outside)}, which this site does not allow (allowed: ${list(allowed)})`,
      };
}

/** Evaluates a plan against a policy (the policy in force: see {@link withPrivacyFloors}), one line per rule it sets. */
export function evaluatePolicy(plan: Plan, policy: SitePolicy): PolicyEvaluation {
  const lines: PolicyLine[] = [];
  if (policy.allowedFeatures)
    lines.push(allowedLine('allowedFeatures', 'features', plan.data.features, policy.allowedFeatures));
  if (policy.allowedLabels) lines.push(allowedLine('allowedLabels', 'label', [plan.data.label], policy.allowedLabels));
  if (policy.allowedModelKinds)
    lines.push(allowedLine('allowedModelKinds', 'model', [plan.model.kind], policy.allowedModelKinds));
  if (policy.allowedStrategies)
    lines.push(allowedLine('allowedStrategies', 'strategy', [plan.strategy.name], policy.allowedStrategies));
  if (policy.requireSecureAggregation) {
    const ok = plan.privacy.secureAggregation;
    lines.push({
      rule: 'requireSecureAggregation',
      ok,
      message: ok
        ? 'secure aggregation: required by this site, used by the plan'
        : 'secure aggregation: required by this site; the plan does not use it (privacy.secureAggregation)',
    });
  }
  if (policy.dp?.required) {
    const ok = plan.privacy.dp !== undefined;
    lines.push({
      rule: 'dp.required',
      ok,
      message: ok
        ? 'differential privacy: required by this site, used by the plan'
        : 'differential privacy: required by this site; the plan has no privacy.dp',
    });
  }
  if (policy.dp?.maxEpsilon !== undefined) lines.push(epsilonLine(plan, policy.dp.maxEpsilon));
  if (policy.maxRounds !== undefined) {
    const ok = plan.rounds <= policy.maxRounds;
    lines.push({
      rule: 'maxRounds',
      ok,
      message: `rounds: the plan has ${plan.rounds}; this site takes part in at most ${policy.maxRounds}`,
    });
  }
  if (policy.minSitesPerRound !== undefined) {
    const ok = plan.minSites >= policy.minSitesPerRound;
    lines.push({
      rule: 'minSitesPerRound',
      ok,
      message: `cohort per round: the plan aggregates from ${plan.minSites} site${plan.minSites === 1 ? '' : 's'} (minSites); this site asks for at least ${policy.minSitesPerRound}`,
    });
  }
  const reports = policy.populationReports;
  if (reports && !reports.allowed) {
    const ok = plan.data.population === undefined;
    lines.push({
      rule: 'populationReports.allowed',
      ok,
      message: ok
        ? 'population reports: not allowed by this site; the plan asks for none'
        : 'population reports: not allowed by this site; the plan asks for them (data.population)',
    });
  }
  if (reports?.allowed && reports.k !== undefined) {
    const planK = plan.data.population?.k ?? DEFAULT_MIN_CELL;
    lines.push({
      rule: 'populationReports.k',
      ok: true,
      message: !plan.data.population
        ? `population reports: the plan asks for none (this site's k = ${reports.k})`
        : planK >= reports.k
          ? `population reports: the plan's k = ${planK} meets this site's k = ${reports.k}`
          : `population reports: the plan's k = ${planK}; this site suppresses cells below its own k = ${reports.k}`,
    });
  }
  return { verdict: lines.every((l) => l.ok) ? 'conforms' : 'violates', lines };
}

function epsilonLine(plan: Plan, max: number): PolicyLine {
  const eps = planEpsilon(plan);
  if (eps === null)
    return {
      rule: 'dp.maxEpsilon',
      ok: false,
      message: `ε budget: this site allows at most ε = ${max}; the plan has no differential privacy, so its ε is unbounded`,
    };
  const dp = plan.privacy.dp!;
  const how = dpMechanism(plan) === 'skellam' ? 'distributed (Skellam) noise' : 'noise';
  return {
    rule: 'dp.maxEpsilon',
    ok: eps <= max,
    message: `ε budget: the plan's ${plan.rounds} rounds at ${how} ×${dp.noiseMultiplier} spend ε = ${eps.toFixed(2)} (δ = ${dp.delta}); this site allows at most ε = ${max}`,
  };
}

/** A verdict line as the CLI prints it: `ok    <message>` or `FAIL  <message>`. */
export function policyLineText(line: PolicyLine): string {
  return `${line.ok ? 'ok  ' : 'FAIL'}  ${line.message}`;
}

/** The rules a plan breaks, by name (empty when it conforms). */
export function failedRules(evaluation: PolicyEvaluation): PolicyRule[] {
  return evaluation.lines.filter((l) => !l.ok).map((l) => l.rule);
}

/**
 * The policy in force at a site, read again at each call: `<dataDir>/policy.json` with the configuration's privacy
 * floors added. When the file's digest differs from the last one noted, `onFileChange` gets the new digest (null: no
 * file), so that the change is recorded in the site's audit chain (`policy.changed`).
 */
export function sitePolicySource(o: {
  dataDir: string;
  floors: PrivacyFloors;
  onFileChange: (digest: string | null) => void;
}): () => SitePolicy {
  let noted: string | null | undefined;
  return () => {
    const { policy, digest } = readPolicyFile(o.dataDir);
    if (digest !== noted) {
      o.onFileChange(digest);
      noted = digest;
    }
    return withPrivacyFloors(policy, o.floors);
  };
}
