import {
  TwinfedError,
  clientBehaviour,
  cryptoUniform,
  isCoxModel,
  refusesRequest,
  type PopulationReport,
} from '@twinfed/shared';
import type { TwinLocalDataset } from '../features/dataset';
import type { UniformSource } from '../population/noise';
import { exactPopulationTable } from '../population/report';
import { scoreTwins } from '../scoring/score';
import type { TwinStore } from '../twins/store-types';
import type { LocalDataset } from './dataset';
import type { ModelStore, StoredModel } from './model-store';
import type { PopulationApi, PopulationOutbox } from './population-outbox';
import type { VersionHook, VersionHookInput } from './runner-options';
import { readTwins, trainingPreprocessing } from './twin-dataset';

/** Options of {@link twinVersionHook}. */
interface TwinVersionHookOptions {
  federationId: string;
  store: TwinStore;
  models: ModelStore;
  outbox: PopulationOutbox;
  api: PopulationApi;
  /** Fixed snapshot time (ms) of scores, or null to use the clock. */
  at: number | null;
  now?: () => number;
  /** Called with each newer verified version (e.g. the live scorer behind the local API). */
  onModel?: (model: StoredModel) => void;
  /** Uniform source of the Laplace noise (default the OS CSPRNG; seeded only in tests). */
  rng?: UniformSource;
  /**
   * The site's own k floor at the time of a report (its policy's `populationReports.k`): cells are suppressed below the
   * larger of it and the plan's k.
   */
  siteK?: () => number | undefined;
}

function isTwinDataset(d: LocalDataset): d is TwinLocalDataset {
  return 'fill' in d && 'trainPids' in d;
}

/**
 * What a twin site does with each published version it verified (see `VersionHook`): keeps it as the latest
 * verified model of the federation (with the site's preprocessing statistics, so scoring matches training),
 * hands it to the live scorer, scores every twin whose scoring consent allows it and sends the population
 * report (tier × age band counts, suppressed below the plan's k or the site's own if larger, Laplace-noised as
 * `plan.data.population` says). Only that
 * report leaves the site. The report is staged in the outbox before it is sent, once per version. The
 * initial version (round 0, untrained) is skipped.
 */
export function twinVersionHook(options: TwinVersionHookOptions): VersionHook {
  let active: StoredModel | undefined;
  const rng = options.rng ?? cryptoUniform();
  return async (input: VersionHookInput) => {
    const { model, plan, versionId, emit } = input;
    if (model.meta.round === 0) return;
    const preprocessing = isTwinDataset(input.dataset)
      ? trainingPreprocessing(input.dataset, plan, input.standardizer)
      : null;
    const stored: StoredModel = {
      federationId: options.federationId,
      meta: model.meta,
      weights: model.weights,
      plan,
      preprocessing,
      at: options.at,
    };
    options.models.save({ federationId: options.federationId, model, plan, preprocessing, at: options.at });
    if (!active || active.meta.round <= model.meta.round) {
      active = stored;
      options.onModel?.(stored);
    }
    if (!plan.data.population)
      return emit({ type: 'population', versionId, status: 'skipped', reason: 'the plan has no population settings' });
    const staged = options.outbox.get(versionId);
    if (staged?.sent)
      return emit({
        type: 'population',
        versionId,
        status: 'already-sent',
        suppressedCells: staged.report.suppressedCells,
      });
    let report: PopulationReport | null;
    try {
      report = staged?.report ?? (await makeReport({ options, input, stored, rng }));
    } catch (e) {
      if (e instanceof TwinfedError && e.code === 'POPULATION_BUDGET_EXHAUSTED')
        return emit({ type: 'population', versionId, status: 'refused', reason: `${e.message} [${e.code}]` });
      throw e;
    }
    if (!report) return emit({ type: 'population', versionId, status: 'skipped', reason: 'no twin may be scored' });
    try {
      await options.api.postPopulationReport({ report, signal: input.signal });
    } catch (e) {
      // The error table decides: a refusal of this report is reported and dropped; anything to retry or fatal
      // (a revoked site, an unknown federation) goes up to the runner, which retries at its next wake-up or stops.
      if (!(e instanceof TwinfedError) || !refusesRequest(clientBehaviour(e.code))) throw e;
      if (e.code !== 'ALREADY_EXISTS')
        return emit({ type: 'population', versionId, status: 'refused', reason: `${e.message} [${e.code}]` });
    }
    options.outbox.markSent(versionId);
    emit({ type: 'population', versionId, status: 'sent', suppressedCells: report.suppressedCells });
  };
}

async function makeReport(args: {
  options: TwinVersionHookOptions;
  input: VersionHookInput;
  stored: StoredModel;
  rng: UniformSource;
}): Promise<PopulationReport | null> {
  const { options, input, stored, rng } = args;
  const { plan, versionId } = input;
  const twins = await readTwins(options.store);
  const at = options.at ?? (options.now ?? Date.now)();
  // A Cox version without its federated baseline ranks twins but gives no risk: no report for it.
  if (isCoxModel(plan.model) && !stored.meta.coxBaseline) return null;
  const scores = await scoreTwins({
    twins,
    plan,
    weights: stored.weights,
    baseline: stored.meta.coxBaseline,
    versionId,
    at,
    top: 0,
    ...(stored.meta.recalibration ? { recalibration: stored.meta.recalibration } : {}),
    ...(stored.preprocessing ? { preprocessing: stored.preprocessing } : {}),
  });
  const byTier: Record<string, number> = {};
  for (const s of scores) byTier[s.tier] = (byTier[s.tier] ?? 0) + 1;
  input.emit({ type: 'scored', versionId, twins: scores.length, byTier });
  if (scores.length === 0) return null;
  return options.outbox.stage({
    federationId: options.federationId,
    table: exactPopulationTable({ scores, twins, plan, siteK: options.siteK?.() ?? 0 }),
    rng,
  });
}
