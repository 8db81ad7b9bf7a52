import { explain, resolveExplainMethod, type ExplainMethod } from '@twinfed/models';
import {
  DEFAULT_RISK_TIERS,
  featureColumns,
  tierOf,
  TwinfedError,
  type GridBaseline,
  type Plan,
  type WeightSet,
} from '@twinfed/shared';
import { deriveFeatures } from '../features/derive';
import { twinSchemaOf } from '../features/dataset';
import type { ConsentEvent, TwinSnapshot } from '../twins/types';
import { backgroundRows, backgroundSample } from './background';
import { describeContribution } from './describe';
import { modelScores } from './model-scores';
import { fitPreprocessing, modelInput, type Preprocessing } from './preprocess';

/** One feature's share of a twin's score. */
export interface ScoreContribution {
  /** Model input name (a derivation, or `<name>.missing`). */
  readonly feature: string;
  /** The raw, un-normalised value; null when the twin had no data (the missing-value policy filled it). */
  readonly value: number | null;
  /**
   * Share of the model's output before the link: a binary model's log-odds, a Cox model's log relative hazard η
   * (the risk at the horizon is monotone in η; Shapley values over η are additive, over the risk they would not be
   * in the same units as a linear Cox model's weights). Linear, weight × normalised value; Shapley, the feature's
   * Shapley value against the site's background sample; integrated gradients, from the training mean.
   */
  readonly contribution: number;
  /** For a clinician, e.g. `resting heart rate 7-day mean 96 bpm, +0.8`. */
  readonly text: string;
}

/** A twin's susceptibility score: decision support for clinicians, never a replacement for their judgement. */
export interface TwinScore {
  readonly pid: string;
  /** Probability of the plan's outcome within its horizon, in [0, 1] (a Cox model: the risk at `model.horizonDays`). */
  readonly score: number;
  readonly tier: string;
  /** The verified model version that made the score. */
  readonly versionId: string;
  /** Snapshot time of the features (ms since epoch). */
  readonly at: number;
  /** How the contributions were computed (see `explain` in `@twinfed/models`). */
  readonly explainedBy: Exclude<ExplainMethod, 'auto'>;
  /** The largest contributions by magnitude, largest first; empty when not explained. */
  readonly contributions: ScoreContribution[];
}

/** Options of {@link scoreTwins}. */
interface ScoreTwinsOptions {
  twins: readonly TwinSnapshot[];
  plan: Pick<Plan, 'data' | 'model'>;
  /** Weights of a verified global model version (signature and digest checked by the caller). */
  weights: WeightSet;
  versionId: string;
  /** A Cox model's federated baseline (the version's signed `coxBaseline`); required to score a Cox model. */
  baseline?: GridBaseline | undefined;
  /** Snapshot time (ms since epoch). */
  at: number;
  /** How many contributions to keep per twin (default 5; `Infinity` keeps all). */
  top?: number;
  /** Fill values and z-score statistics from training; default: fitted on the twins being scored. */
  preprocessing?: Preprocessing;
  /** How to explain: default `auto` (linear for logistic regression, Shapley values otherwise). */
  explain?: ExplainMethod;
  /** Explain only the `n` highest scores (ties in input order); default all. */
  explainHighest?: number;
  /**
   * Shapley background as model inputs (row-major `[m, inputs]`, preprocessed like the twins): default a seeded
   * sample of the twins being scored (see `backgroundSample`).
   */
  background?: Float32Array;
  /** The version's signed recalibration, when it is a recalibrated version: scores are σ(a·z + b) of the log-odds. */
  recalibration?: { a: number; b: number };
}

/** Whether a twin may be scored: its latest `scoring` consent decision is not `deny` (no decision allows it). */
export function scoringAllowed(consent: readonly ConsentEvent[]): boolean {
  let latest: ConsentEvent | undefined;
  for (const e of consent) if (e.purpose === 'scoring' && (latest === undefined || e.t >= latest.t)) latest = e;
  return latest?.decision !== 'deny';
}

/**
 * Scores twins with a verified global model: derives each twin's features from the plan, fills and
 * normalises them as in training, predicts with `@twinfed/models`, assigns the plan's risk tier and explains
 * the top contributions in words with raw, un-normalised values. Twins whose latest `scoring` consent
 * decision is `deny` are not scored (scoring is part of care, so no decision means allowed). Output keeps the
 * order of `twins`.
 */
export async function scoreTwins(options: ScoreTwinsOptions): Promise<TwinScore[]> {
  const { plan, weights, versionId, at } = options;
  const { derivations, features } = twinSchemaOf(plan);
  if (plan.model.inputs !== features.length)
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The model takes ${plan.model.inputs} inputs; the plan derives ${features.length}.`,
    );
  const top = options.top ?? 5;
  if (!(top >= 0)) throw new TwinfedError('BAD_REQUEST', 'top must be a non-negative number');
  const twins = options.twins.filter((t) => scoringAllowed(t.consent));
  const rows = twins.map((twin) => deriveFeatures({ twin, derivations, at }));
  const pre = options.preprocessing ?? fitPreprocessing({ rows, derivations, normalization: plan.data.normalization });
  const d = features.length;
  if (pre.fill.length !== d || (pre.standardizer && pre.standardizer.mean.length !== d))
    throw new TwinfedError('CONFIG_INVALID', 'The preprocessing statistics do not fit the plan’s features.');
  const x = new Float32Array(rows.length * d);
  rows.forEach((row, i) => x.set(modelInput(row, pre), i * d));
  const scores = await modelScores({
    spec: plan.model,
    weights,
    x,
    n: rows.length,
    baseline: options.baseline,
    recalibration: options.recalibration,
  });
  const columns = featureColumns(derivations);
  const index = new Map(features.map((f, j) => [f, j]));
  const tiers = plan.data.tiers ?? DEFAULT_RISK_TIERS;
  const method = resolveExplainMethod(plan.model, options.explain);
  const background =
    method === 'shapley'
      ? (options.background ?? backgroundRows(x, d, backgroundSample(twins.map((t) => t.pid))))
      : undefined;
  const explained = explainedRows(scores, top === 0 ? 0 : (options.explainHighest ?? rows.length));
  const out: TwinScore[] = [];
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const explanation = !explained.has(i)
      ? []
      : await explain({
          spec: plan.model,
          weights,
          x: x.subarray(i * d, (i + 1) * d),
          featureNames: features,
          method,
          ...(background ? { background } : {}),
        });
    const contributions = explanation.slice(0, Math.min(top, explanation.length)).map((c) => {
      const j = index.get(c.feature)!;
      const raw = row.missing[j] ? null : row.values[j]!;
      return {
        feature: c.feature,
        value: raw,
        contribution: c.contribution,
        text: describeContribution({ column: columns[j]!, raw, filled: pre.fill[j]!, contribution: c.contribution }),
      };
    });
    const score = scores[i]!;
    out.push({
      pid: twins[i]!.pid,
      score,
      tier: tierOf(score, tiers),
      versionId,
      at,
      explainedBy: method,
      contributions,
    });
  }
  return out;
}

/** Indices of the `n` highest scores (a stable sort, so ties keep input order). */
function explainedRows(scores: Float32Array, n: number): Set<number> {
  const order = Array.from(scores, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  return new Set(order.slice(0, n));
}
