/**
 * The site-level privacy ledger (`GET /v1/privacy/ledger`, `GET /v1/sites/self/privacy`): per site, the ε and δ of
 * every federation whose published versions it contributed to, and their composition across federations.
 */
import { z } from 'zod';
import { FederationStateSchema } from './api';
import { IdSchema } from './ids';

/** What one federation spent of one site's privacy. */
const PrivacySpendSchema = z.object({
  federationId: IdSchema,
  federationName: z.string(),
  studyId: IdSchema,
  state: FederationStateSchema,
  /** How the noise was added: `gaussian` (central DP), `skellam` (distributed DP), or null: no DP, ε unbounded. */
  mechanism: z.enum(['gaussian', 'skellam']).nullable(),
  /** ε spent so far: the `dpEpsilon` signed into the federation's latest version (null: no DP, unbounded; 0 before any release). */
  epsilon: z.number().min(0).nullable(),
  /** ε the plan spends when all its rounds are published (null without DP). */
  plannedEpsilon: z.number().min(0).nullable(),
  /** The plan's δ (null without DP). */
  delta: z.number().min(0).nullable(),
  /** DP releases (published rounds) counted in `epsilon`. */
  releases: z.int().min(0),
  /** The federation's published versions this site contributed an update to. */
  versionsContributed: z.int().min(1),
  latestVersionId: IdSchema.nullable(),
});
/** One federation's spend of one site's privacy (see {@link PrivacySpendSchema}). */
export type PrivacySpend = z.infer<typeof PrivacySpendSchema>;

/** One site's ledger: each federation it contributed to and the composed total. */
export const SitePrivacyLedgerSchema = z.object({
  siteId: IdSchema,
  siteName: z.string(),
  federations: z.array(PrivacySpendSchema),
  /**
   * Basic composition across federations: ε = Σ ε, δ = Σ δ (valid for any mechanisms, adaptively chosen). `epsilon`
   * is null (unbounded) when any federation above has no DP; `plannedEpsilon` likewise, with every plan run to the end.
   */
  total: z.object({
    epsilon: z.number().min(0).nullable(),
    plannedEpsilon: z.number().min(0).nullable(),
    delta: z.number().min(0),
    federationsWithoutDp: z.int().min(0),
  }),
});
/** One site's privacy ledger (see {@link SitePrivacyLedgerSchema}). */
export type SitePrivacyLedger = z.infer<typeof SitePrivacyLedgerSchema>;

/** The ledger, per site: every site for an operator; a researcher's studies' federations only; a site's own entry for a site. */
export const PrivacyLedgerSchema = z.object({
  composition: z.literal('basic'),
  /** `all`: every federation; `studies`: only the caller's studies' federations, so totals are partial; `site`: the calling site's own. */
  scope: z.enum(['all', 'studies', 'site']),
  sites: z.array(SitePrivacyLedgerSchema),
});
/** The consortium's privacy ledger (see {@link PrivacyLedgerSchema}). */
export type PrivacyLedger = z.infer<typeof PrivacyLedgerSchema>;
