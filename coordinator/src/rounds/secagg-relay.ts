/**
 * What the coordinator relays of a secure-aggregation round once U2 is fixed, parsed once: the survivors' signed mask
 * keys (with the digests of their share boxes) and every share box indexed by its recipient. The share messages of
 * U2 cannot change any more (the first accepted message of a site stays, and a share message stored once U2 is
 * fixed is refused to its sender and never relayed), so a site's poll costs O(|U2|) for the list and O(k) for its own boxes instead of parsing and hashing every
 * message of the round again (O(n·k) per poll, O(n²·k) per round).
 */
import { shareBoxesDigest, type SecaggShares, type SecaggState } from '@twinfed/shared';
import type { SecaggCohortRecord, SecaggMessageRecord } from '../store';

type Survivor = NonNullable<SecaggState['survivors']>[number];
type BoxForMe = SecaggState['sharesForMe'][number];

/** The parsed share messages of U2 (immutable). */
export interface SecaggRelay {
  /** U2's keys, digests and signatures, in the store's order of the messages (each frozen, as everything here). */
  readonly survivors: readonly Survivor[];
  /** The ids of U2, sorted. */
  readonly survivorIds: readonly string[];
  /** Each U2 member's round mask public key (base64). */
  readonly maskPublicKeys: ReadonlyMap<string, string>;
  /** The boxes addressed to a site by the members of U2 (empty when none). */
  boxesFor(siteId: string): readonly BoxForMe[];
}

/**
 * Builds the relay of U2 from the round's stored share messages (every other message is ignored). `knownDigest` gives
 * the digest of a site's boxes when it was computed already from the very message stored (by the request that stored
 * it); the others are hashed here.
 */
export function buildSecaggRelay(
  cohort: Pick<SecaggCohortRecord, 'siteIds'>,
  messages: readonly SecaggMessageRecord[],
  knownDigest: (siteId: string) => string | undefined = () => undefined,
): SecaggRelay {
  const u2 = new Set(cohort.siteIds);
  const survivors: Survivor[] = [];
  const maskPublicKeys = new Map<string, string>();
  const inbox = new Map<string, BoxForMe[]>();
  for (const m of messages) {
    if (m.kind !== 'shares' || !u2.has(m.siteId)) continue;
    const body = JSON.parse(m.payload) as SecaggShares;
    survivors.push(
      Object.freeze({
        siteId: m.siteId,
        maskPublicKey: body.maskPublicKey,
        boxesSha256: knownDigest(m.siteId) ?? shareBoxesDigest(body.shares),
        signature: body.signature,
      }),
    );
    maskPublicKeys.set(m.siteId, body.maskPublicKey);
    for (const s of body.shares) {
      let boxes = inbox.get(s.to);
      if (!boxes) inbox.set(s.to, (boxes = []));
      boxes.push(Object.freeze({ from: m.siteId, nonce: s.nonce, ciphertext: s.ciphertext }));
    }
  }
  Object.freeze(survivors);
  for (const boxes of inbox.values()) Object.freeze(boxes);
  const none: readonly BoxForMe[] = Object.freeze([]);
  const survivorIds = Object.freeze(survivors.map((m) => m.siteId).sort());
  return { survivors, survivorIds, maskPublicKeys, boxesFor: (siteId) => inbox.get(siteId) ?? none };
}
