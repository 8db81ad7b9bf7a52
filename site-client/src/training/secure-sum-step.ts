/**
 * The site's part of a secure sum after (or beside) the federation — federated normalisation statistics, the Cox
 * baseline, recalibration — once: the two coordinator calls, the journalled masking and the progress events. Each
 * feature gives only its vector, its journal slot and what it makes of the session (federated-stats.ts,
 * baseline-step.ts, recalibration-step.ts).
 */
import {
  maskContribution,
  toB64,
  type CohortMember,
  type Plan,
  type StatsAck,
  type StatsContribution,
} from '@twinfed/shared';
import type { Enrollment } from '../identity/load';
import type { SiteApi } from '../transport/coordinator-client';
import type { Journal } from './journal';
import { trustedPeers } from './peer-directory';
import type { RunnerProgress } from './progress';

type SessionCall<S> = (federationId: string, options?: { signal?: AbortSignal }) => Promise<S>;
type ContributeCall = (opts: {
  federationId: string;
  contribution: StatsContribution;
  signal?: AbortSignal;
}) => Promise<StatsAck>;

/** The two coordinator calls of one secure sum, under their names in `CoordinatorClient`. */
export type SecureSumApi<S, SessionName extends string, ContributeName extends string> = {
  [K in SessionName]: SessionCall<S>;
} & { [K in ContributeName]: ContributeCall };

/** The calls of one secure sum, bound to a federation's API. */
interface SecureSumCalls<S> {
  session(federationId: string, signal?: AbortSignal): Promise<S>;
  contribute(federationId: string, masked: string, signal?: AbortSignal): Promise<StatsAck>;
}

/** The calls named `names` when `api` carries both (an older or test API may not), else undefined. */
export function secureSumCalls<S>(
  api: object,
  names: { session: string; contribute: string },
): SecureSumCalls<S> | undefined {
  const a = api as Record<string, unknown>;
  const session = a[names.session];
  const contribute = a[names.contribute];
  if (typeof session !== 'function' || typeof contribute !== 'function') return undefined;
  const opts = (signal?: AbortSignal) => (signal ? { signal } : {});
  return {
    session: (federationId, signal) => (session as SessionCall<S>).call(api, federationId, opts(signal)),
    contribute: (federationId, masked, signal) =>
      (contribute as ContributeCall).call(api, { federationId, contribution: { masked }, ...opts(signal) }),
  };
}

/** What every secure-sum session tells a site: the signed cohort, who has contributed, the fixed-point scale. */
interface CohortView {
  cohort: readonly CohortMember[];
  contributed: readonly string[];
  fractionBits: number;
}

/**
 * When this site is asked to contribute (a member of the cohort that has not contributed yet): runs the feature's
 * `check` of the session, masks this site's vector with pairwise masks agreed (X25519) with every other cohort
 * member — whose keys it takes only from the coordinator-signed directory and pins (`SECAGG_UNTRUSTED_KEY`
 * otherwise) — records the masked bytes in the journal, and posts them; resolves to the acknowledgement, or null when
 * the site is not asked. A site asked again (after a restart, or told it has not contributed) re-sends the very bytes
 * it recorded, never a masking of its current data: two vectors under the same masks would give away their
 * difference. `values` is computed only when nothing is recorded.
 */
export async function contributeMasked(o: {
  session: CohortView;
  enrollment: Enrollment;
  journal: Journal;
  /** Throws when the session does not fit this site (cohort size, vector length, grid). */
  check?: () => void;
  /** The journal's slot of this secure sum. */
  slot: { recorded: () => string | undefined; record: (masked: string) => void };
  /** Binds the masks to this secure sum (federation, purpose, version). */
  context: string;
  values: () => ArrayLike<number> | Promise<ArrayLike<number>>;
  send: (masked: string) => Promise<StatsAck>;
}): Promise<StatsAck | null> {
  const { enrollment, journal, session } = o;
  const siteId = enrollment.state.siteId;
  if (!session.cohort.some((m) => m.siteId === siteId) || session.contributed.includes(siteId)) return null;
  o.check?.();
  const peers = trustedPeers({ members: session.cohort, enrollment, journal });
  let masked = o.slot.recorded();
  if (masked === undefined) {
    masked = toB64(
      maskContribution({
        values: await o.values(),
        siteId,
        boxSecretKey: enrollment.identity.box.secretKey,
        cohort: [...peers.values()].map((p) => ({ siteId: p.siteId, boxPublicKey: p.boxPublicKey })),
        context: o.context,
        fractionBits: session.fractionBits,
      }),
    );
    o.slot.record(masked);
  }
  return o.send(masked);
}

/** What the runner gives every secure-sum step at each wake-up. */
export interface SecureSumStepContext {
  api: SiteApi;
  federationId: string;
  enrollment: Enrollment;
  journal: Journal;
  plan: Plan;
  signal: AbortSignal;
}

/** A post-federation step that reports each change of its state once (the runner calls it at every wake-up). */
export abstract class SecureSumStep {
  private last = '';

  constructor(private readonly emit: (event: RunnerProgress) => void) {}

  /** Emits `event` unless it is the one emitted last. */
  protected report(event: RunnerProgress): void {
    const key = JSON.stringify(event);
    if (key === this.last) return;
    this.last = key;
    this.emit(event);
  }
}
