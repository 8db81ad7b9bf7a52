/**
 * Secure aggregation of model updates (Bonawitz et al., CCS 2017, honest-but-curious coordinator): the coordinator
 * learns the sum of the sites' example-weighted weights, never one site's. Version `twinfed/secagg/v1`, per round
 * (federation f, round r, cohort S = the round's selected sites), all of a site's secrets derived by HKDF from its
 * X25519 identity secret and (f, r) — deterministic, so a restarted site sends the very same messages:
 *
 *   b_u            self-mask seed (32 bytes); its commitment c_u = SHA-256(label ‖ f ‖ r ‖ u ‖ b_u) goes, signed, in
 *                  u's update header
 *   (m_u, M_u)     the round's mask key pair (X25519); k_uv = HKDF(X25519(m_u, M_v), label ‖ f ‖ r ‖ u ‖ v)
 *   1. keys+shares u sends M_u and, for every v in S, a box u → v (AAD = label ‖ f ‖ r ‖ u ‖ v) holding v's Shamir
 *                  shares (GF(2^8), threshold t) of b_u and of m_u. The coordinator relays what it cannot read.
 *                  U2 = the sites whose message arrived.
 *   2. masked input y_u = encode(n_u · w_u) + PRG(b_u) + Σ_{v ∈ U2, v > u} PRG(k_uv) − Σ_{v ∈ U2, v < u} PRG(k_uv)
 *                  (PRG = AES-256-CTR, ring Z/2^64). U3 = the sites whose masked input arrived.
 *   3. unmasking   every u ∈ U3 reveals its share of b_v for v ∈ U3 and its share of m_v for v ∈ U2 \ U3 — never
 *                  both for one v, and nothing when |U3| < t.
 *   The coordinator adds the y_u of U3, recombines b_v (checked against c_v) and m_v (checked against M_v) from t
 *   shares each, and subtracts PRG(b_v) for v ∈ U3 and ±PRG(k_uv) for every survivor u and dropped v.
 * Any t revealing survivors suffice: sites may drop at every step. Revealing m_v exposes only round r's masks of a
 * site whose masked input never arrived (the coordinator refuses it afterwards).
 */
import { hkdfSync } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { TwinfedError } from '../errors';
import { fromB64, toB64, utf8 } from './encoding';
import { sha256Parts } from './hash';
import { openBox, sealBox } from './box';
import { addRing64, encodeRing64, expandRing64, subRing64, type Ring64 } from './ring64';
import { x25519PublicKey } from './primitives';
import { pairwiseKey, type SecureSumMember } from './secure-sum';

/** Version label of the construction. */
export const SECAGG_LABEL = 'twinfed/secagg/v1';
/** Fixed-point precision of masked values (n · w is encoded as round(n · w · 2^20)). */
export const SECAGG_FRACTION_BITS = 20;
/** The Shamir library works in GF(2^8): at most 255 shares. */
export const SECAGG_MAX_COHORT = 255;

/** The unmasking threshold t for a cohort of `size` sites: a majority, at least 2 and at least `minSites`. */
export function secaggThreshold(size: number, minSites: number): number {
  return Math.max(2, minSites, Math.floor(size / 2) + 1);
}

const roundContext = (federationId: string, round: number): string => `${SECAGG_LABEL}\n${federationId}\n${round}`;

function derive(opts: { boxSecretKey: Uint8Array; federationId: string; round: number }, what: string): Uint8Array {
  const info = utf8(`${SECAGG_LABEL}/${what}\n${opts.federationId}\n${opts.round}`);
  return new Uint8Array(hkdfSync('sha256', opts.boxSecretKey, utf8(SECAGG_LABEL), info, 32));
}

/** b_u for a round (32 bytes). */
export function selfMaskSeed(opts: { boxSecretKey: Uint8Array; federationId: string; round: number }): Uint8Array {
  return derive(opts, 'self');
}

/** (m_u, M_u): the site's mask key pair for a round. */
export function maskKeyPair(opts: { boxSecretKey: Uint8Array; federationId: string; round: number }): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = derive(opts, 'mask-key');
  return { secretKey, publicKey: x25519PublicKey(secretKey) };
}

/** c_u, the commitment to b_u that goes (signed) into the update header (base64 of 32 bytes). */
export function selfMaskCommitment(opts: { seed: Uint8Array; siteId: string; federationId: string; round: number }): string {
  return toB64(sha256Parts([`${SECAGG_LABEL}/commit\n${opts.federationId}\n${opts.round}\n${opts.siteId}\n`, opts.seed]));
}

/** The box from u to `to` holding to's Shamir shares of b_u and of m_u. */
export interface SealedShare {
  to: string;
  nonce: string;
  ciphertext: string;
}

/** What a box of {@link SealedShare} opens to. */
export interface OpenedShares {
  /** The share of the sender's self-mask seed b. */
  seed: Uint8Array;
  /** The share of the sender's round mask secret m. */
  maskKey: Uint8Array;
}

/** A secure-aggregation member: its site id and its round mask public key M (not its identity key). */
export type SecaggMember = SecureSumMember;

const SHARE_BYTES = 33; // a 32-byte secret's share plus its x coordinate

const shareAad = (o: { federationId: string; round: number; from: string; to: string }): Uint8Array => utf8(`${roundContext(o.federationId, o.round)}\n${o.from}\n${o.to}`);

function checkCohort(ids: readonly string[], siteId: string): void {
  if (new Set(ids).size !== ids.length) throw new TwinfedError('VALIDATION_FAILED', 'A site appears twice in the cohort.');
  if (!ids.includes(siteId)) throw new TwinfedError('VALIDATION_FAILED', `Site ${siteId} is not in the cohort.`);
  if (ids.length < 2 || ids.length > SECAGG_MAX_COHORT) throw new TwinfedError('VALIDATION_FAILED', `A secure-aggregation cohort has 2 to ${SECAGG_MAX_COHORT} sites, not ${ids.length}.`);
}

/**
 * Step 1 (site u): for every cohort member (u included) a box u → v with v's shares of b_u and m_u. `cohort` holds the
 * members' X25519 *identity* public keys (the boxes are sealed to them).
 */
export async function shareSecrets(opts: {
  boxSecretKey: Uint8Array;
  siteId: string;
  cohort: readonly SecureSumMember[];
  threshold: number;
  federationId: string;
  round: number;
}): Promise<SealedShare[]> {
  checkCohort(opts.cohort.map((m) => m.siteId), opts.siteId);
  if (!Number.isInteger(opts.threshold) || opts.threshold < 2 || opts.threshold > opts.cohort.length) {
    throw new TwinfedError('VALIDATION_FAILED', `The threshold must be between 2 and the cohort size (${opts.cohort.length}).`);
  }
  const seedShares = await split(selfMaskSeed(opts), opts.cohort.length, opts.threshold);
  const keyShares = await split(maskKeyPair(opts).secretKey, opts.cohort.length, opts.threshold);
  return opts.cohort.map((member, i) => {
    const plaintext = new Uint8Array(2 * SHARE_BYTES);
    plaintext.set(seedShares[i]!, 0);
    plaintext.set(keyShares[i]!, SHARE_BYTES);
    const box = sealBox({
      plaintext,
      aad: shareAad({ federationId: opts.federationId, round: opts.round, from: opts.siteId, to: member.siteId }),
      recipientBoxPublicKey: member.boxPublicKey,
      senderBoxSecretKey: opts.boxSecretKey,
    });
    return { to: member.siteId, nonce: toB64(box.nonce), ciphertext: toB64(box.ciphertext) };
  });
}

/** Step 3 (site v): opens the box `from` (its identity key) sealed for v. Throws `DECRYPT_FAILED` on anything wrong. */
export function openShares(opts: { share: SealedShare; from: SecureSumMember; siteId: string; boxSecretKey: Uint8Array; federationId: string; round: number }): OpenedShares {
  if (opts.share.to !== opts.siteId) throw new TwinfedError('DECRYPT_FAILED');
  const plain = openBox({
    ciphertext: fromB64(opts.share.ciphertext, 'DECRYPT_FAILED'),
    nonce: fromB64(opts.share.nonce, 'DECRYPT_FAILED'),
    aad: shareAad({ federationId: opts.federationId, round: opts.round, from: opts.from.siteId, to: opts.siteId }),
    senderBoxPublicKey: opts.from.boxPublicKey,
    recipientBoxSecretKey: opts.boxSecretKey,
  });
  if (plain.byteLength !== 2 * SHARE_BYTES) throw new TwinfedError('DECRYPT_FAILED');
  return { seed: plain.slice(0, SHARE_BYTES), maskKey: plain.slice(SHARE_BYTES) };
}

/** k_uv: the key of the pairwise mask between u (its round mask secret) and v (its round mask public key). */
export function secaggPairKey(opts: { maskSecretKey: Uint8Array; siteId: string; peer: SecaggMember; federationId: string; round: number }): Uint8Array {
  return pairwiseKey({ boxSecretKey: opts.maskSecretKey, siteId: opts.siteId, peer: opts.peer, context: roundContext(opts.federationId, opts.round) });
}

/**
 * Step 2 (site u): y_u. `values` are u's example-weighted weights n_u · w_u; `survivors` is U2 (u included) with
 * their round mask public keys. Throws `VALIDATION_FAILED` when u is not in U2 or a value cannot be encoded.
 */
export function maskUpdate(opts: {
  values: ArrayLike<number>;
  boxSecretKey: Uint8Array;
  siteId: string;
  survivors: readonly SecaggMember[];
  federationId: string;
  round: number;
}): Ring64 {
  checkCohort(opts.survivors.map((m) => m.siteId), opts.siteId);
  const y = encodeRing64(opts.values, SECAGG_FRACTION_BITS);
  addRing64(y, expandRing64(selfMaskSeed(opts), opts.values.length));
  const maskSecretKey = maskKeyPair(opts).secretKey;
  for (const peer of opts.survivors) {
    if (peer.siteId === opts.siteId) continue;
    const mask = expandRing64(secaggPairKey({ maskSecretKey, siteId: opts.siteId, peer, federationId: opts.federationId, round: opts.round }), opts.values.length);
    if (opts.siteId < peer.siteId) addRing64(y, mask);
    else subRing64(y, mask);
  }
  return y;
}

async function combineShares(shares: readonly Uint8Array[], siteId: string, what: string): Promise<Uint8Array> {
  try {
    return await combine([...shares]);
  } catch {
    throw new TwinfedError('VALIDATION_FAILED', `The shares of site ${siteId}'s ${what} do not combine.`);
  }
}

/** b_v recombined from at least t shares; `VALIDATION_FAILED` when it does not match v's commitment. */
export async function recoverSelfMaskSeed(opts: { shares: readonly Uint8Array[]; commitment: string; siteId: string; federationId: string; round: number }): Promise<Uint8Array> {
  const seed = await combineShares(opts.shares, opts.siteId, 'mask seed');
  if (selfMaskCommitment({ seed, siteId: opts.siteId, federationId: opts.federationId, round: opts.round }) !== opts.commitment) {
    throw new TwinfedError('VALIDATION_FAILED', `The shares of site ${opts.siteId}'s mask seed do not match its commitment.`);
  }
  return seed;
}

/** m_v recombined from at least t shares; `VALIDATION_FAILED` unless it is the secret of v's round mask public key. */
export async function recoverMaskSecretKey(opts: { shares: readonly Uint8Array[]; publicKey: Uint8Array; siteId: string }): Promise<Uint8Array> {
  const secretKey = await combineShares(opts.shares, opts.siteId, 'mask key');
  const derived = x25519PublicKey(secretKey);
  if (derived.byteLength !== opts.publicKey.byteLength || !derived.every((b, i) => b === opts.publicKey[i])) {
    throw new TwinfedError('VALIDATION_FAILED', `The shares of site ${opts.siteId}'s mask key do not match its public key.`);
  }
  return secretKey;
}

/**
 * The coordinator's last step, in place on `sum` (Σ y_u over U3): subtracts every survivor's self mask and the
 * pairwise masks between each survivor u and each dropped v (u added +PRG(k_uv) when u < v). Leaves Σ encode(n_u · w_u).
 */
export function unmaskSum(opts: { sum: Ring64; selfSeeds: readonly Uint8Array[]; droppedPairs: ReadonlyArray<{ survivor: string; dropped: string; key: Uint8Array }> }): Ring64 {
  const length = opts.sum.length / 2;
  for (const seed of opts.selfSeeds) subRing64(opts.sum, expandRing64(seed, length));
  for (const p of opts.droppedPairs) {
    const mask = expandRing64(p.key, length);
    if (p.survivor < p.dropped) subRing64(opts.sum, mask);
    else addRing64(opts.sum, mask);
  }
  return opts.sum;
}
