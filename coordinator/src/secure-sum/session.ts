/**
 * The coordinator's side of a secure sum after (or beside) the federation — federated normalisation statistics
 * (stats/session.ts), the Cox baseline (baseline/*, rounds/baseline.ts), recalibration (recalibration/session.ts) —
 * once: collecting the cohort's masked vectors, summing them once every member has, and storing a member's vector once
 * (audited). Each feature gives its cohort, its deadline and its fit of the decoded sum; the coordinator only ever
 * learns the sum.
 */
import {
  SECURE_SUM_FRACTION_BITS,
  TwinfedError,
  decodeSecureSum,
  sumMaskedContributions,
  type StatsAck,
} from '@twinfed/shared';
import type { ModelVersion, PutStatsContributionResult, Site, StatsContributionRecord, Store } from '../store';

/** Which secure sum: each has its own store table, with the same insert-once rules. */
type SecureSumKind = 'stats' | 'baseline' | 'recalibration';

interface ContributionTable {
  put(record: StatsContributionRecord): Promise<PutStatsContributionResult>;
  list(federationId: string): Promise<StatsContributionRecord[]>;
}

function table(store: Store, kind: SecureSumKind): ContributionTable {
  switch (kind) {
    case 'stats':
      return { put: (r) => store.putStatsContribution(r), list: (f) => store.listStatsContributions(f) };
    case 'baseline':
      return { put: (r) => store.putBaselineContribution(r), list: (f) => store.listBaselineContributions(f) };
    case 'recalibration':
      return {
        put: (r) => store.putRecalibrationContribution(r),
        list: (f) => store.listRecalibrationContributions(f),
      };
  }
}

/** A secure sum as collected so far: the cohort members' masked vectors (by site id) and their sum once complete. */
export class CollectedSum {
  constructor(
    readonly cohort: Site[],
    readonly length: number,
    readonly contributions: StatsContributionRecord[],
  ) {}

  /** The members that contributed, by id. */
  get contributed(): string[] {
    return this.contributions.map((c) => c.siteId);
  }

  /** Whether every cohort member contributed. */
  get complete(): boolean {
    return this.contributions.length === this.cohort.length;
  }

  /** The ring sum of the masked vectors: the masks cancel only when the sum is complete. */
  ringSum(): Uint8Array {
    return sumMaskedContributions(
      this.contributions.map((c) => c.masked),
      this.length,
    );
  }

  /** The decoded sum of the cohort's vectors (what a feature fits). */
  decoded(): Float64Array {
    return decodeSecureSum(this.ringSum(), { length: this.length, fractionBits: SECURE_SUM_FRACTION_BITS });
  }
}

/** The stored masked vectors of `cohort` in the `kind` secure sum of a federation (others are ignored). */
export async function collectSum(
  store: Store,
  kind: SecureSumKind,
  federationId: string,
  cohort: Site[],
  length: number,
): Promise<CollectedSum> {
  const members = new Set(cohort.map((s) => s.id));
  const contributions = (await table(store, kind).list(federationId)).filter((c) => members.has(c.siteId));
  return new CollectedSum(cohort, length, contributions);
}

/** The end of a secure sum's collection: `seconds` after the version the cohort's vectors are computed from. */
export function deadlineAfter(version: ModelVersion, seconds: number): number {
  return Date.parse(version.createdAt) + seconds * 1000;
}

/** A site's masked vector as the HTTP route hands it over. */
export interface ContributionRequest {
  store: Store;
  federationId: string;
  siteId: string;
  masked: Uint8Array;
}

/** Throws FORBIDDEN (with `why`) unless the site is a member of the cohort. */
export function assertMember(cohort: readonly Site[], siteId: string, why: string): void {
  if (!cohort.some((s) => s.id === siteId)) throw new TwinfedError('FORBIDDEN', why);
}

/**
 * Stores a cohort member's masked vector once and audits its first arrival (`site:<id>` `<kind>.contribute`); the
 * same bytes again are a duplicate. Throws ALREADY_EXISTS (with `conflict`) when different bytes are already stored.
 * The caller has checked the member, the phase and the vector's length.
 */
export async function storeContribution(o: {
  store: Store;
  kind: SecureSumKind;
  federationId: string;
  siteId: string;
  masked: Uint8Array;
  createdAt: string;
  /** The message of ALREADY_EXISTS. */
  conflict: string;
  /** The audit record's detail. */
  detail: Record<string, unknown>;
}): Promise<'accepted' | 'duplicate'> {
  const { store, federationId, siteId, masked, createdAt } = o;
  const put = await table(store, o.kind).put({ federationId, siteId, masked, createdAt });
  if (put.status === 'conflict') throw new TwinfedError('ALREADY_EXISTS', o.conflict);
  if (put.status === 'accepted')
    await store.appendAudit({
      at: createdAt,
      actor: `site:${siteId}`,
      action: `${o.kind}.contribute`,
      subject: federationId,
      detail: o.detail,
    });
  return put.status;
}

/** The answer to a contribution: its status and how many of the cohort have contributed now. */
export async function contributionAck(
  store: Store,
  kind: SecureSumKind,
  o: { federationId: string; siteId: string; status: 'accepted' | 'duplicate'; cohort: Site[] },
): Promise<StatsAck> {
  const now = await collectSum(store, kind, o.federationId, o.cohort, 0);
  return {
    federationId: o.federationId,
    siteId: o.siteId,
    status: o.status,
    contributed: now.contributions.length,
    cohort: o.cohort.length,
  };
}
