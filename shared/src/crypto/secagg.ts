/**
 * Secure aggregation of model updates (Bonawitz et al., CCS 2017), hardened against an active coordinator: the
 * coordinator learns the sum of the sites' example-weighted weights, never one site's. Version `twinfed/secagg/v3`,
 * per round with context C = (federation f, round r, base version, coordinator fingerprint) and cohort S = the round's
 * selected sites (|S| ≥ 3); all of a site's secrets are derived by HKDF from its X25519 identity secret and C —
 * deterministic, so a restarted site can only ever hold the very same secrets:
 *
 *   b_u            self-mask seed (32 bytes); its commitment c_u = SHA-256(label ‖ C ‖ u ‖ b_u) goes, signed, in
 *                  u's update header
 *   (m_u, M_u)     the round's mask key pair (X25519); k_uv = HKDF(X25519(m_u, M_v), label ‖ C ‖ u ‖ v)
 *   t              ⌊2|S|/3⌋ + 1 (and ≥ minSites), computed by every site from the plan and S, never taken from the
 *                  coordinator: two disjoint honest groups cannot both reach t with fewer than |S|/3 corrupt sites
 *   1. keys+shares u sends M_u and, for every v in S, a box u → v (AAD = label ‖ C ‖ u ‖ v ‖ M_u) holding v's Shamir
 *                  shares (GF(2^8), threshold t) of b_u and of m_u, and its Ed25519 signature (identity key) over
 *                  M_u and the digest of the boxes (envelope/secagg-statements). The coordinator relays what it
 *                  cannot read. U2 = the sites whose message arrived.
 *   2. masked input y_u = encode(x_u) + PRG(b_u) + Σ_{v ∈ U2, v > u} PRG(k_uv) − Σ_{v ∈ U2, v < u} PRG(k_uv), with
 *                  x_u = [n_u · w_u | n_u | n_u · loss_u | n_u] (secagg-payload: the side facts are masked too)
 *                  (PRG = ChaCha20, ring Z/2^64: `expandRing64`), with every M_v checked against v's signature first.
 *                  U3 = the sites whose masked input arrived.
 *   3. consistency every u ∈ U3 signs (C, S, t, U2, U3) and waits for t such signatures from distinct members of U3
 *                  over the very same statement
 *   4. unmasking   only then u reveals its share of b_v for v ∈ U3 and its share of m_v for v ∈ U2 \ U3 — never
 *                  both for one v, never for a second U3 (the site's journal), and nothing when |U3| < t.
 *   The coordinator adds the y_u of U3, recombines b_v (checked against c_v) and m_v (checked against M_v) from t
 *   shares each, and subtracts PRG(b_v) for v ∈ U3 and ±PRG(k_uv) for every survivor u and dropped v.
 * Any t revealing survivors suffice: sites may drop at every step. Revealing m_v exposes only round r's masks of a
 * site whose masked input never arrived (the coordinator refuses it afterwards).
 */
import { TwinfedError } from '../errors';
import { fromB64, toB64, utf8 } from './encoding';
import { randomBytes, sha256Parts } from './hash';
import { hkdfSha256 } from './hkdf';
import { combineShamirShares } from './shamir-combine';
import { splitShamirSecret } from './shamir-split';
import { BOX_NONCE_BYTES, openBox, sealBox } from './box';
import { Ring64Sum, encodeRing64, expandRing64, type Ring64 } from './ring64';
import { timingSafeEqualKeys, x25519PublicKey } from './primitives';
import { pairwiseKey, type SecureSumMember } from './secure-sum';

/**
 * Version label of the construction; it enters every derived secret, commitment and context (so every signed
 * statement), so sites and a coordinator of different versions never unmask instead of publishing noise: a key
 * signature of another version does not verify (refusals name this label, {@link SECAGG_VERSION}), and a recovered
 * seed fails its commitment. v3: the masks' PRG is ChaCha20 instead of AES-256-CTR.
 */
const SECAGG_LABEL = 'twinfed/secagg/v3';
/** The secure-aggregation version this code runs (its label), for refusals that may come from a version mismatch. */
export const SECAGG_VERSION = SECAGG_LABEL;
/** Fixed-point precision of masked values (n · w is encoded as round(n · w · 2^20)). */
export const SECAGG_FRACTION_BITS = 20;
/** The Shamir library works in GF(2^8): at most 255 shares. */
export const SECAGG_MAX_COHORT = 255;

/** The smallest cohort (selected sites of a round) secure aggregation runs with. */
export const SECAGG_MIN_COHORT = 3;

/**
 * The unmasking threshold t for a cohort of `size` sites: more than two thirds (⌊2·size/3⌋ + 1), and at least
 * `minSites`. Against a coordinator that lies about U3 with c corrupt sites, two disjoint groups of honest sites
 * reach t signatures over two different U3 only when size + c ≥ 2t, i.e. never while c < size/3.
 */
export function secaggThreshold(size: number, minSites: number): number {
  return Math.max(minSites, Math.floor((2 * size) / 3) + 1);
}

/** Throws `SECAGG_COHORT_TOO_SMALL` below {@link SECAGG_MIN_COHORT} sites. */
export function assertSecaggCohort(size: number): void {
  if (size < SECAGG_MIN_COHORT)
    throw new TwinfedError(
      'SECAGG_COHORT_TOO_SMALL',
      `Secure aggregation needs at least ${SECAGG_MIN_COHORT} sites in a round, not ${size}.`,
    );
}

/** What binds a round's secrets and messages: the federation, the round, its base version and the coordinator's key. */
export interface SecaggRound {
  readonly federationId: string;
  readonly round: number;
  readonly baseVersionId: string;
  /** `fingerprint` of the coordinator's public keys (as pinned by the site at enrollment). */
  readonly coordinatorFingerprint: string;
}

/** The round context C as text (label ‖ f ‖ r ‖ base ‖ coordinator). */
export function secaggContext(r: SecaggRound): string {
  return `${SECAGG_LABEL}\n${r.federationId}\n${r.round}\n${r.baseVersionId}\n${r.coordinatorFingerprint}`;
}

/** The fields of {@link SecaggRound} alone (callers often pass wider objects). */
const roundOf = (r: SecaggRound): SecaggRound => ({
  federationId: r.federationId,
  round: r.round,
  baseVersionId: r.baseVersionId,
  coordinatorFingerprint: r.coordinatorFingerprint,
});

function derive(opts: SecaggRound & { boxSecretKey: Uint8Array }, what: string): Uint8Array {
  return hkdfSha256(opts.boxSecretKey, SECAGG_LABEL, `${SECAGG_LABEL}/${what}\n${secaggContext(opts)}`, 32);
}

/** b_u for a round (32 bytes). */
export function selfMaskSeed(opts: SecaggRound & { boxSecretKey: Uint8Array }): Uint8Array {
  return derive(opts, 'self');
}

/**
 * The mask secrets derived lately, per identity secret (its array; a changed array derives anew) and round context:
 * a site needs its round's m_u three times (shares, its public key, masking), and the same array each time lets
 * the primitives reuse its imported key and agreements. At most {@link MASK_KEYS_KEPT} rounds per identity.
 */
const maskKeys = new WeakMap<Uint8Array, { copy: Uint8Array; byContext: Map<string, Uint8Array> }>();
const MASK_KEYS_KEPT = 4;

/** (m_u, M_u): the site's mask key pair for a round (the same `secretKey` array on every call: do not change it). */
export function maskKeyPair(opts: SecaggRound & { boxSecretKey: Uint8Array }): {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
} {
  let kept = maskKeys.get(opts.boxSecretKey);
  if (!kept || !timingSafeEqualKeys(kept.copy, opts.boxSecretKey)) {
    kept = { copy: Uint8Array.from(opts.boxSecretKey), byContext: new Map() };
    maskKeys.set(opts.boxSecretKey, kept);
  }
  const context = secaggContext(opts);
  let secretKey = kept.byContext.get(context);
  if (!secretKey) {
    secretKey = derive(opts, 'mask-key');
    if (kept.byContext.size >= MASK_KEYS_KEPT) kept.byContext.delete(kept.byContext.keys().next().value as string);
    kept.byContext.set(context, secretKey);
  }
  return { secretKey, publicKey: x25519PublicKey(secretKey) };
}

/** c_u, the commitment to b_u that goes (signed) into the update header (base64 of 32 bytes). */
export function selfMaskCommitment(opts: SecaggRound & { seed: Uint8Array; siteId: string }): string {
  return toB64(sha256Parts([`${SECAGG_LABEL}/commit\n${secaggContext(opts)}\n${opts.siteId}\n`, opts.seed]));
}

/** The box from u to `to` holding to's Shamir shares of b_u and of m_u. */
export interface SealedShare {
  to: string;
  nonce: string;
  ciphertext: string;
}

/** What a box of {@link SealedShare} opens to. */
interface OpenedShares {
  /** The share of the sender's self-mask seed b. */
  seed: Uint8Array;
  /** The share of the sender's round mask secret m. */
  maskKey: Uint8Array;
}

/** A secure-aggregation member: its site id and its round mask public key M (not its identity key). */
type SecaggMember = SecureSumMember;

const SHARE_BYTES = 33; // a 32-byte secret's share plus its x coordinate

/** The AAD of the box `from` → `to`: label ‖ C ‖ from ‖ to ‖ M_from (`context`: {@link secaggContext}; the key in base64). */
const shareAad = (context: string, from: string, to: string, senderMaskPublicKey: string): Uint8Array =>
  utf8(`${context}\n${from}\n${to}\n${senderMaskPublicKey}`);

function checkCohort(ids: readonly string[], siteId: string): void {
  if (new Set(ids).size !== ids.length)
    throw new TwinfedError('VALIDATION_FAILED', 'A site appears twice in the cohort.');
  if (!ids.includes(siteId)) throw new TwinfedError('VALIDATION_FAILED', `Site ${siteId} is not in the cohort.`);
  if (ids.length < 2 || ids.length > SECAGG_MAX_COHORT)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `A secure-aggregation cohort has 2 to ${SECAGG_MAX_COHORT} sites, not ${ids.length}.`,
    );
}

/**
 * Step 1 (site u): for every cohort member (u included) a box u → v with v's shares of b_u and m_u, bound to M_u.
 * `cohort` holds the members' X25519 *identity* public keys (the boxes are sealed to them). Throws
 * `SECAGG_COHORT_TOO_SMALL` below {@link SECAGG_MIN_COHORT} members.
 */
export async function shareSecrets(
  opts: SecaggRound & {
    boxSecretKey: Uint8Array;
    siteId: string;
    cohort: readonly SecureSumMember[];
    threshold: number;
  },
): Promise<SealedShare[]> {
  checkCohort(
    opts.cohort.map((m) => m.siteId),
    opts.siteId,
  );
  assertSecaggCohort(opts.cohort.length);
  if (!Number.isInteger(opts.threshold) || opts.threshold < 2 || opts.threshold > opts.cohort.length) {
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `The threshold must be between 2 and the cohort size (${opts.cohort.length}).`,
    );
  }
  const seedShares = splitShamirSecret(selfMaskSeed(opts), opts.cohort.length, opts.threshold);
  const mask = maskKeyPair(opts);
  const keyShares = splitShamirSecret(mask.secretKey, opts.cohort.length, opts.threshold);
  const context = secaggContext(opts);
  const maskPublicKey = toB64(mask.publicKey);
  // The boxes' nonces from one CSPRNG call (k + 1 boxes a round: one call each was a measurable part of sharing).
  const nonces = randomBytes(BOX_NONCE_BYTES * opts.cohort.length);
  return opts.cohort.map((member, i) => {
    const plaintext = new Uint8Array(2 * SHARE_BYTES);
    plaintext.set(seedShares[i]!, 0);
    plaintext.set(keyShares[i]!, SHARE_BYTES);
    const box = sealBox({
      plaintext,
      aad: shareAad(context, opts.siteId, member.siteId, maskPublicKey),
      recipientBoxPublicKey: member.boxPublicKey,
      senderBoxSecretKey: opts.boxSecretKey,
      nonce: nonces.subarray(BOX_NONCE_BYTES * i, BOX_NONCE_BYTES * (i + 1)),
    });
    return { to: member.siteId, nonce: toB64(box.nonce), ciphertext: toB64(box.ciphertext) };
  });
}

/**
 * Step 4 (site v): opens the box `from` (its identity key) sealed for v under its round mask public key
 * `fromMaskPublicKey`. Throws `DECRYPT_FAILED` on anything wrong.
 */
export function openShares(
  opts: SecaggRound & {
    share: SealedShare;
    from: SecureSumMember;
    fromMaskPublicKey: Uint8Array;
    siteId: string;
    boxSecretKey: Uint8Array;
  },
): OpenedShares {
  if (opts.share.to !== opts.siteId) throw new TwinfedError('DECRYPT_FAILED');
  const plain = openBox({
    ciphertext: fromB64(opts.share.ciphertext, 'DECRYPT_FAILED'),
    nonce: fromB64(opts.share.nonce, 'DECRYPT_FAILED'),
    aad: shareAad(secaggContext(opts), opts.from.siteId, opts.siteId, toB64(opts.fromMaskPublicKey)),
    senderBoxPublicKey: opts.from.boxPublicKey,
    recipientBoxSecretKey: opts.boxSecretKey,
  });
  if (plain.byteLength !== 2 * SHARE_BYTES) throw new TwinfedError('DECRYPT_FAILED');
  return { seed: plain.slice(0, SHARE_BYTES), maskKey: plain.slice(SHARE_BYTES) };
}

/** k_uv: the key of the pairwise mask between u (its round mask secret) and v (its round mask public key). */
export function secaggPairKey(
  opts: SecaggRound & { maskSecretKey: Uint8Array; siteId: string; peer: SecaggMember },
): Uint8Array {
  return pairwiseKey({
    boxSecretKey: opts.maskSecretKey,
    siteId: opts.siteId,
    peer: opts.peer,
    context: secaggContext(opts),
  });
}

/**
 * Step 2 (site u): y_u. `values` are u's example-weighted weights n_u · w_u; `survivors` is U2 (u included) with
 * their round mask public keys. Throws `VALIDATION_FAILED` when u is not in U2 or a value cannot be encoded.
 */
export function maskUpdate(
  opts: SecaggRound & {
    values: ArrayLike<number>;
    boxSecretKey: Uint8Array;
    siteId: string;
    survivors: readonly SecaggMember[];
    /** Fixed-point precision of `values` (default {@link SECAGG_FRACTION_BITS}; 0 for values that are integers already: distributed DP). */
    fractionBits?: number;
  },
): Ring64 {
  return maskRing64({ ...opts, encoded: encodeRing64(opts.values, opts.fractionBits ?? SECAGG_FRACTION_BITS) });
}

/**
 * Step 2 on a vector already encoded in the ring (e.g. `encodeSecaggInput`: weights and side facts): adds u's self
 * mask and pairwise masks, in place, and returns it.
 */
export function maskRing64(
  opts: SecaggRound & {
    encoded: Ring64;
    boxSecretKey: Uint8Array;
    siteId: string;
    survivors: readonly SecaggMember[];
  },
): Ring64 {
  checkCohort(
    opts.survivors.map((m) => m.siteId),
    opts.siteId,
  );
  const y = opts.encoded;
  const masks = new Ring64Sum(y.length / 2);
  masks.add(expandRing64(selfMaskSeed(opts), masks.length));
  const maskSecretKey = maskKeyPair(opts).secretKey;
  for (const peer of opts.survivors) {
    if (peer.siteId === opts.siteId) continue;
    const mask = expandRing64(
      secaggPairKey({ ...roundOf(opts), maskSecretKey, siteId: opts.siteId, peer }),
      masks.length,
    );
    if (opts.siteId < peer.siteId) masks.add(mask);
    else masks.sub(mask);
  }
  return masks.foldInto(y);
}

/** Recombines with the precomputed Lagrange basis (shamir-combine: the library's bytes, ~300× faster at t = 73). */
async function combineShares(shares: readonly Uint8Array[], siteId: string, what: string): Promise<Uint8Array> {
  try {
    return combineShamirShares(shares);
  } catch {
    throw new TwinfedError('VALIDATION_FAILED', `The shares of site ${siteId}'s ${what} do not combine.`);
  }
}

/** b_v recombined from at least t shares; `VALIDATION_FAILED` when it does not match v's commitment. */
export async function recoverSelfMaskSeed(
  opts: SecaggRound & { shares: readonly Uint8Array[]; commitment: string; siteId: string },
): Promise<Uint8Array> {
  const seed = await combineShares(opts.shares, opts.siteId, 'mask seed');
  if (selfMaskCommitment({ ...roundOf(opts), seed, siteId: opts.siteId }) !== opts.commitment) {
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `The shares of site ${opts.siteId}'s mask seed do not match its commitment.`,
    );
  }
  return seed;
}

/** m_v recombined from at least t shares; `VALIDATION_FAILED` unless it is the secret of v's round mask public key. */
export async function recoverMaskSecretKey(opts: {
  shares: readonly Uint8Array[];
  publicKey: Uint8Array;
  siteId: string;
}): Promise<Uint8Array> {
  const secretKey = await combineShares(opts.shares, opts.siteId, 'mask key');
  const derived = x25519PublicKey(secretKey);
  if (derived.byteLength !== opts.publicKey.byteLength || !derived.every((b, i) => b === opts.publicKey[i])) {
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `The shares of site ${opts.siteId}'s mask key do not match its public key.`,
    );
  }
  return secretKey;
}

/**
 * The coordinator's last step, in place on `sum` (Σ y_u over U3): subtracts every survivor's self mask and the
 * pairwise masks between each survivor u and each dropped v (u added +PRG(k_uv) when u < v). Leaves Σ encode(n_u · w_u).
 */
export function unmaskSum(opts: {
  sum: Ring64;
  selfSeeds: readonly Uint8Array[];
  droppedPairs: ReadonlyArray<{ survivor: string; dropped: string; key: Uint8Array }>;
}): Ring64 {
  const masks = new Ring64Sum(opts.sum.length / 2);
  for (const seed of opts.selfSeeds) masks.sub(expandRing64(seed, masks.length));
  for (const p of opts.droppedPairs) {
    const mask = expandRing64(p.key, masks.length);
    if (p.survivor < p.dropped) masks.sub(mask);
    else masks.add(mask);
  }
  return masks.foldInto(opts.sum);
}
