/**
 * Messages of secure aggregation of model updates (see crypto/secagg for the construction). Per round of a
 * federation with `privacy.secureAggregation`, a selected site: (1) POSTs its round mask public key, one sealed box
 * of Shamir shares per cohort member and its signature over both; (2) once the coordinator has fixed U2 (the sites
 * that shared), uploads a masked update (an update envelope with `secagg.commitment`); (3) once the round stopped
 * taking updates (U3 is the sites that uploaded), POSTs its signature over the round as it saw it (consistency);
 * (4) once t members of U3 (a sparse graph: t_g of its closed neighbourhood) signed the same, POSTs its shares of the survivors' seeds and of the dropped sites' mask keys.
 */
import { z } from 'zod';
import { CohortMemberSchema, EvaluationReportSchema, IdSchema } from './api';

const b64 = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');
const key = b64(64);
const signature = b64(100);
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 hex');

/**
 * POST …/rounds/:round/secagg/shares (site). Idempotent: the first accepted message of a site stays. `signature` is
 * the site's Ed25519 signature over its mask public key and the digest of its boxes (`signSecaggKeys`). Optional
 * `baseEvaluation`: the site's evaluation of the round's base version, in the same signed request instead of its own
 * `POST /v1/models/:vid/evaluations` (taken as that route takes it; never stored with the message nor relayed).
 */
export const SecaggSharesSchema = z
  .object({
    maskPublicKey: key,
    shares: z
      .array(z.object({ to: IdSchema, nonce: b64(64), ciphertext: b64(200) }).strict())
      .min(2)
      .max(255),
    signature,
    baseEvaluation: EvaluationReportSchema.optional(),
  })
  .strict();
export type SecaggShares = z.infer<typeof SecaggSharesSchema>;

/** A consistency MAC: HMAC-SHA256 (32 bytes, base64) under a key only its two ends derive (crypto/secagg-mac). */
const mac = b64(44);

/**
 * POST …/rounds/:round/secagg/consistency (site, a member of U3): its signature over the round as it saw it — with
 * the complete graph over (context, S, t, U2, U3) (`signSecaggConsistency`, V2), with a sparse graph over its closed
 * neighbourhood restricted to U2 and U3 (`signSecaggNeighbourhood`, V3). With a sparse graph also `macs`: one
 * pairwise MAC over the same V3 statement for each neighbour in U3 (`to`: exactly N[u] ∩ U3 without u, each once),
 * which the neighbours check instead of the signature; the signature stays what the coordinator checks and keeps.
 * A site from before the MACs sends none (its neighbours then check its signature). Idempotent.
 */
export const SecaggConsistencySchema = z
  .object({
    signature,
    macs: z
      .array(z.object({ to: IdSchema, mac }).strict())
      .max(255)
      .optional(),
  })
  .strict();
export type SecaggConsistency = z.infer<typeof SecaggConsistencySchema>;

/** POST …/rounds/:round/secagg/reveal (site, a member of U3): one share per survivor's seed and per dropped site's mask key. */
export const SecaggRevealSchema = z
  .object({
    seedShares: z.array(z.object({ of: IdSchema, share: b64(64) }).strict()).max(255),
    maskKeyShares: z.array(z.object({ of: IdSchema, share: b64(64) }).strict()).max(255),
  })
  .strict();
export type SecaggReveal = z.infer<typeof SecaggRevealSchema>;

/**
 * The parts of the state a site may already hold from an earlier read of the same round (`have`): `directory` —
 * `cohort`, `cohortIds` and `neighbourhoodSignature` (fixed when the round opens); `survivors` — `survivors`,
 * `survivorIds` and `sharesForMe` (fixed with U2); `maskedBy` — U3 (fixed when the round stops taking updates).
 */
export const SECAGG_STATE_SECTIONS = ['directory', 'survivors', 'maskedBy'] as const;
export type SecaggStateSection = (typeof SECAGG_STATE_SECTIONS)[number];
const SectionSchema = z.enum(SECAGG_STATE_SECTIONS);
const SECTION = SECAGG_STATE_SECTIONS.join('|');

/**
 * The query of GET …/rounds/:round/secagg. `view=neighbourhood`: with a sparse graph, `cohort` and `survivors` carry
 * only the entries of the calling site's closed neighbourhood (itself and its k neighbours, the only sites whose keys
 * it uses) and `cohortIds` / `survivorIds` name all of S and U2 — O(k) keys per read instead of O(n). The complete
 * graph, and a site that does not ask, get the full view. `have` (comma-separated {@link SECAGG_STATE_SECTIONS}): the
 * sections the site already holds, checked, from an earlier read of this round; those that are fixed are left out of
 * the answer and named in its `omitted` (the site goes on using what it checked then). Without `have` every section
 * is sent.
 */
export const SecaggStateQuerySchema = z.strictObject({
  view: z.enum(['full', 'neighbourhood']).optional(),
  have: z
    .string()
    .regex(new RegExp(`^(${SECTION})(,(${SECTION})){0,${SECAGG_STATE_SECTIONS.length - 1}}$`), 'sections')
    .optional(),
});
export type SecaggStateView = NonNullable<z.infer<typeof SecaggStateQuerySchema>['view']>;

/** The sections named by a `have` query (unknown names were refused by its schema). */
export function secaggStateSections(have: string | undefined): Set<SecaggStateSection> {
  return new Set(have === undefined ? [] : (have.split(',') as SecaggStateSection[]));
}

/**
 * GET …/rounds/:round/secagg (site): where the round's secure aggregation stands, and what this site needs next.
 * `phase`: `sharing` (U2 not fixed yet), `masking` (U2 fixed: upload a masked update), `unmasking` (no more updates:
 * U3 members sign the round, then reveal), `closed` (published or failed). Nothing here is taken on trust: the site
 * recomputes the threshold, checks every key against its owner's signature and the coordinator-signed directory, and
 * reveals only against t signatures over the round it saw.
 */
export const SecaggStateSchema = z.object({
  federationId: IdSchema,
  round: z.number().int().min(1),
  phase: z.enum(['sharing', 'masking', 'unmasking', 'closed']),
  threshold: z.number().int().min(2),
  /** The round's cohort S as signed directory entries (seal the share boxes to their X25519 identity keys). */
  cohort: z.array(CohortMemberSchema),
  /** This site's own messages so far. */
  shared: z.boolean(),
  revealed: z.boolean(),
  /** U2 with their round mask public keys, the digests of their share boxes and their signatures, once fixed. */
  survivors: z.array(z.object({ siteId: IdSchema, maskPublicKey: key, boxesSha256: sha256Hex, signature })).nullable(),
  /** The boxes addressed to this site by the members of U2 (once U2 is fixed). */
  sharesForMe: z.array(z.object({ from: IdSchema, nonce: b64(64), ciphertext: b64(200) })),
  /** U3, once the round stopped taking updates. */
  maskedBy: z.array(IdSchema).nullable(),
  /**
   * The consistency signatures of U3 members received so far (each over the round as its signer saw it): all of U3's
   * with the complete graph, only those of the site itself and its neighbours with a sparse one — there with `mac`,
   * the signer's MAC addressed to the calling site, when the signer sent one (older sites ignore it).
   */
  consistency: z.array(z.object({ siteId: IdSchema, signature, mac: mac.optional() })),
  /** When sharing ends (U2 is fixed with the sites that shared, if at least `threshold`) and when unmasking must be done. */
  sharesDeadlineAt: z.string(),
  unmaskDeadlineAt: z.string(),
  /**
   * `neighbourhood` when `cohort` and `survivors` hold only the calling site's closed neighbourhood (asked with
   * `view=neighbourhood`, sparse graph); absent for the full view.
   */
  view: z.enum(['full', 'neighbourhood']).optional(),
  /** With the neighbourhood view: every site of S (sorted). */
  cohortIds: z.array(IdSchema).optional(),
  /** With the neighbourhood view: every site of U2 (sorted), once fixed. */
  survivorIds: z.array(IdSchema).nullable().optional(),
  /**
   * With the neighbourhood view: the coordinator's signature, by the key that signs the site directory, over the
   * round's context, the calling site and exactly the `cohort` entries listed (envelope/neighbourhood-directory). A
   * site that checks it trusts those entries without checking each one's `directorySignature` (kept for older sites).
   * Absent from the full view and from older coordinators.
   */
  neighbourhoodSignature: signature.optional(),
  /**
   * The sections left out because the site said it holds them (`have`): their lists are sent empty (`cohort`,
   * `survivors`, `sharesForMe`, `maskedBy`) or not at all (`cohortIds`, `survivorIds`, `neighbourhoodSignature`).
   * Absent when nothing was left out — always for a site that does not ask, and from older coordinators.
   */
  omitted: z.array(SectionSchema).optional(),
});
export type SecaggState = z.infer<typeof SecaggStateSchema>;

/** Acknowledgement of a secure-aggregation message. */
export const SecaggAckSchema = z.object({ status: z.enum(['accepted', 'duplicate']) });
export type SecaggAck = z.infer<typeof SecaggAckSchema>;

/**
 * `state` as an answer that left out the sections `omitted` (`have`): `cohort`, `survivors`, `sharesForMe` and
 * `maskedBy` sent empty, `cohortIds`, `survivorIds` and `neighbourhoodSignature` not at all, and the sections named in
 * `omitted` (absent when nothing is left out). The shape a reduced read has, for whoever builds one from a full state.
 */
export function withoutSecaggSections(state: SecaggState, omitted: readonly SecaggStateSection[]): SecaggState {
  if (omitted.length === 0) return state;
  const out: SecaggState = { ...state, omitted: [...omitted] };
  if (omitted.includes('directory')) {
    out.cohort = [];
    delete out.cohortIds;
    delete out.neighbourhoodSignature;
  }
  if (omitted.includes('survivors')) {
    out.survivors = [];
    out.sharesForMe = [];
    delete out.survivorIds;
  }
  if (omitted.includes('maskedBy')) out.maskedBy = [];
  return out;
}
