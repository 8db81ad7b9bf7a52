import type { Split, Standardizer } from '@twinfed/models';
import {
  TwinfedError,
  assertStatsCohort,
  decodeSecureSum,
  fromB64,
  normalizationFromSums,
  normalizationStatsContext,
  normalizationStatsLength,
  type StatsSession,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { LocalDataset } from './dataset';
import type { Journal } from './journal';
import type { RunnerProgress } from './progress';
import {
  SecureSumStep,
  type SecureSumStepContext,
  contributeMasked,
  secureSumCalls,
  type SecureSumApi,
} from './secure-sum-step';

/** The two coordinator calls of the secure sum (implemented by `CoordinatorClient`). */
export type StatsApi = SecureSumApi<StatsSession, 'statsSession', 'contributeStats'>;

const STATS_CALLS = { session: 'statsSession', contribute: 'contributeStats' };

/** This site's normalisation statistics of its raw train rows: [n, Σx per feature, Σx² per feature] (float64). */
export function localStatsVector(train: Split): Float64Array {
  const { n, d, x } = train;
  const out = new Float64Array(normalizationStatsLength(d));
  out[0] = n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]!;
      out[1 + j] = out[1 + j]! + v;
      out[1 + d + j] = out[1 + d + j]! + v * v;
    }
  }
  return out;
}

/**
 * Z-score statistics from the cohort's summed [N, Σx, Σx²]: mean Σx/N and the unbiased (N − 1) standard
 * deviation, as if all the cohort's train rows were pooled (the same numbers `fitStandardizer` gives the pool).
 */
export function standardizerFromSums(sum: ArrayLike<number>, d: number): Standardizer {
  const { mean, std } = normalizationFromSums(sum, d);
  return { mean, std };
}

/** What {@link federatedStandardizer} found: the statistics, or how far the cohort is. */
type FederatedStatsState =
  | { state: 'ready'; standardizer: Standardizer; cohort: number }
  | { state: 'waiting'; contributed: number; cohort: number };

/** Options of {@link federatedStandardizer}. */
interface FederatedStandardizerOptions {
  api: StatsApi;
  federationId: string;
  enrollment: Enrollment;
  /** The raw (un-normalised) train rows, in the plan's feature order. */
  train: Split;
  /** Where the masked contribution is recorded before it is sent (and the peers' keys are pinned). */
  journal: Journal;
  /** The plan's `minSites`: the cohort must be at least max(3, minSites), as in secure aggregation (default 1). */
  minSites?: number;
  signal?: AbortSignal;
}

/**
 * The site's step of federated normalisation: reads the federation's secure-sum session; if this site is in the
 * cohort and has not contributed, masks its [n, Σx, Σx²] with pairwise masks agreed (X25519) with every other member
 * — whose keys it takes only from the coordinator-signed directory and pins — records the masked bytes and posts
 * them; once every member has, decodes the sum into pooled z-score statistics. Only counts and per-feature sums leave
 * the site, and only masked. A site asked again (after a restart, or told it has not contributed) re-sends the very
 * bytes it recorded, never a masking of its current data: two vectors under the same masks would give away their
 * difference. Callable on every wake-up until it answers `ready`. Throws `SECAGG_COHORT_TOO_SMALL` when the cohort has
 * fewer than max(3, minSites) sites (the cohort rule of secure aggregation; the sum needs every member, so its
 * threshold is the whole cohort), `SECURE_SUM_OVERFLOW` when a value could wrap the cohort's sum,
 * `SECAGG_UNTRUSTED_KEY` when a peer's keys are not vouched for or changed since pinned.
 */
export async function federatedStandardizer(opts: FederatedStandardizerOptions): Promise<FederatedStatsState> {
  const { federationId, enrollment, train, journal, signal } = opts;
  const api = secureSumCalls<StatsSession>(opts.api, STATS_CALLS)!;
  let session = await api.session(federationId, signal);
  assertStatsCohort(session.cohort.length, opts.minSites ?? 1);
  if (session.length !== normalizationStatsLength(train.d))
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The coordinator expects ${session.length} statistics; this site's ${train.d} features give ${normalizationStatsLength(train.d)}.`,
    );
  const ack =
    session.sum === null &&
    (await contributeMasked({
      session,
      enrollment,
      journal,
      slot: {
        recorded: () => journal.statsContribution(federationId),
        record: (masked) => journal.recordStatsContribution(federationId, masked),
      },
      context: normalizationStatsContext(federationId),
      values: () => localStatsVector(train),
      send: (masked) => api.contribute(federationId, masked, signal),
    }));
  if (ack) {
    if (ack.contributed < ack.cohort) return { state: 'waiting', contributed: ack.contributed, cohort: ack.cohort };
    session = await api.session(federationId, signal);
  }
  if (session.sum === null)
    return { state: 'waiting', contributed: session.contributed.length, cohort: session.cohort.length };
  const sum = decodeSecureSum(fromB64(session.sum, 'CONFIG_INVALID'), {
    length: session.length,
    fractionBits: session.fractionBits,
  });
  return { state: 'ready', standardizer: standardizerFromSums(sum, train.d), cohort: session.cohort.length };
}

/**
 * The runner's use of {@link federatedStandardizer}: only for `data.normalization: 'federated'`, reporting each change
 * of state once as a `stats` progress event. Resolves to the pooled statistics, null while the cohort is incomplete, or
 * undefined when the plan does not ask for them or the API cannot carry them (the session then falls back to per-site
 * statistics and warns).
 */
export class FederatedStatsStep extends SecureSumStep {
  async run(
    opts: SecureSumStepContext & {
      dataset: LocalDataset;
    },
  ): Promise<Standardizer | null | undefined> {
    const { api, plan } = opts;
    if (plan.data.normalization !== 'federated' || !secureSumCalls(api, STATS_CALLS)) return undefined;
    const r = await federatedStandardizer({
      api: api as SiteApi & StatsApi,
      federationId: opts.federationId,
      enrollment: opts.enrollment,
      journal: opts.journal,
      train: opts.dataset.train,
      minSites: plan.minSites,
      signal: opts.signal,
    });
    const event: RunnerProgress =
      r.state === 'ready'
        ? { type: 'stats', state: r.state, cohort: r.cohort }
        : { type: 'stats', state: r.state, contributed: r.contributed, cohort: r.cohort };
    this.report(event);
    return r.state === 'ready' ? r.standardizer : null;
  }
}
