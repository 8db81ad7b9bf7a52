import { TwinfedError, isCoxModel, type ModelVersionMeta, type Plan } from '@twinfed/shared';
import type { TwinStore } from '../twins/store-types';
import type { TwinScore } from './score';

/**
 * Scores as FHIR R4 `RiskAssessment` resources an EHR can file next to the chart. The subject is the hospital's
 * own patient id, resolved at the site from the twin store's pseudonym mapping (audited); it is built here, on
 * the site, and never travels to the coordinator. See docs/decisions.md for the choices of each element.
 */

/** The HL7 code system of qualitative risk. */
export const RISK_PROBABILITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/risk-probability';
/** The code system of `method`: a twinfed model version id. */
export const MODEL_VERSION_SYSTEM = 'urn:twinfed:model-version';
/** The identifier system of `basis`: the SHA-256 of a model version's weights, covered by the coordinator's signature. */
export const MODEL_WEIGHTS_SYSTEM = 'urn:twinfed:model-weights-sha256';

const RISK_PROBABILITY = {
  negligible: 'Negligible likelihood',
  low: 'Low likelihood',
  moderate: 'Moderate likelihood',
  high: 'High likelihood',
  certain: 'Certain',
} as const;
type RiskProbability = keyof typeof RISK_PROBABILITY;

/**
 * The HL7 risk-probability code of a tier: a tier named like a code keeps it (`medium` is `moderate`); any other
 * name goes by position: the lowest tier is `low`, the highest `high`, those between `moderate`.
 */
export function riskProbabilityOf(tier: string, names: readonly string[]): RiskProbability {
  if (tier in RISK_PROBABILITY) return tier as RiskProbability;
  if (tier === 'medium') return 'moderate';
  const i = names.indexOf(tier);
  return i <= 0 ? 'low' : i === names.length - 1 ? 'high' : 'moderate';
}

/** The model version a score names. */
type ScoringVersion = Pick<ModelVersionMeta, 'federationId' | 'versionId' | 'round' | 'weightsSha256'>;

/** Options of {@link riskAssessmentOf}. */
interface RiskAssessmentOptions {
  score: TwinScore;
  /** The hospital's own patient id (resolved locally from the pseudonym; never sent off site). */
  hospitalId: string;
  /** The identifier system of the hospital id (e.g. the MRN system), when the site knows it. */
  identifierSystem?: string;
  version: ScoringVersion;
  plan: Pick<Plan, 'data' | 'model'>;
}

/** A FHIR R4 RiskAssessment as JSON. */
type RiskAssessment = Record<string, unknown> & { resourceType: 'RiskAssessment' };

/** One score as an R4 RiskAssessment (`status: final`). */
export function riskAssessmentOf(options: RiskAssessmentOptions): RiskAssessment {
  const { score, version, plan } = options;
  const tiers = plan.data.tiers?.names ?? ['low', 'medium', 'high'];
  const code = riskProbabilityOf(score.tier, tiers);
  const at = new Date(score.at);
  const rule = plan.data.labelRule;
  const cox = isCoxModel(plan.model) ? plan.model : null;
  const prediction: Record<string, unknown> = {
    outcome: { text: cox ? `${plan.data.label} within ${cox.horizonDays} days` : plan.data.label },
    probabilityDecimal: Number(score.score.toFixed(6)),
    qualitativeRisk: {
      coding: [{ system: RISK_PROBABILITY_SYSTEM, code, display: RISK_PROBABILITY[code] }],
      text: score.tier,
    },
  };
  // A Cox model's score is the risk of the event within its horizon: the period it covers starts at the snapshot.
  if (cox)
    prediction.whenPeriod = {
      start: at.toISOString(),
      end: new Date(score.at + cox.horizonDays * 86_400_000).toISOString(),
    };
  else if (rule?.kind === 'condition-onset')
    prediction.whenPeriod = {
      start: at.toISOString(),
      end: new Date(score.at + rule.horizonDays * 86_400_000).toISOString(),
    };
  const model = `twinfed model version ${version.versionId} (federation ${version.federationId}, round ${version.round})`;
  return {
    resourceType: 'RiskAssessment',
    status: 'final',
    subject: {
      type: 'Patient',
      identifier: {
        ...(options.identifierSystem ? { system: options.identifierSystem } : {}),
        value: options.hospitalId,
      },
    },
    occurrenceDateTime: at.toISOString(),
    method: {
      coding: [{ system: MODEL_VERSION_SYSTEM, code: version.versionId, display: model }],
      text: `${model}, weights SHA-256 ${version.weightsSha256}`,
    },
    basis: [
      {
        type: 'Device',
        identifier: { system: MODEL_WEIGHTS_SYSTEM, value: version.weightsSha256 },
        display: model,
      },
    ],
    prediction: [prediction],
    note: [{ text: noteOf(score, cox ? 'log relative hazard' : 'log-odds') }],
  };
}

const EXPLAINED_BY: Record<TwinScore['explainedBy'], string> = {
  linear: 'weight × value',
  shapley: "Shapley values against a sample of this site's patients",
  'integrated-gradients': 'integrated gradients from the training mean',
};

/** The explanation as a clinician reads it, with the decision-support caveat (`unit`: what the contributions add up in). */
function noteOf(score: TwinScore, unit: string): string {
  const lines = score.contributions.length
    ? `Main contributions (${EXPLAINED_BY[score.explainedBy]}, in ${unit}): ${score.contributions.map((c) => c.text).join('; ')}.`
    : 'No explanation was computed for this score.';
  return `${lines} Decision support only: the score does not replace clinical judgement.`;
}

/** Many resources as a FHIR `Bundle` of type `collection` (no `entry` when there are none: FHIR JSON has no empty arrays). */
export function collectionBundle(resources: readonly RiskAssessment[]): Record<string, unknown> {
  const bundle: Record<string, unknown> = { resourceType: 'Bundle', type: 'collection' };
  if (resources.length > 0) bundle.entry = resources.map((resource) => ({ resource }));
  return bundle;
}

/** Options of {@link riskAssessmentsFor}. */
interface RiskAssessmentsForOptions extends Omit<RiskAssessmentOptions, 'score' | 'hospitalId'> {
  scores: readonly TwinScore[];
  store: TwinStore;
  /** Who asks, and why: each hospital id resolved is audited in the twin store. */
  actor: string;
  reason: string;
}

/** RiskAssessments of scores, each subject resolved from its pseudonym in the twin store (audited). */
export async function riskAssessmentsFor(options: RiskAssessmentsForOptions): Promise<RiskAssessment[]> {
  const { scores, store, actor, reason, ...rest } = options;
  const out: RiskAssessment[] = [];
  for (const score of scores) {
    const hospitalId = await store.resolveHospitalId(score.pid, { actor, reason });
    if (hospitalId === null) throw new TwinfedError('NOT_FOUND', 'A scored twin is no longer in the twin store.');
    out.push(riskAssessmentOf({ ...rest, score, hospitalId }));
  }
  return out;
}
