/** Verifies a whole audit trail: the hash chain, then every signed head against it and the coordinator key. */
import { AuditChainVerifier, type ChainedAuditEntry } from './chain';
import type { AuditVerifyReport } from './schemas';
import { verifyAuditHead, type SignedAuditHead } from './signed-head';

/**
 * Pulls entries page by page (oldest first, `after` = last seq seen; an empty page ends) so a long chain is never
 * held in memory, then checks each head in seq order: its signature under `signPublicKey`, and that the chain has
 * an entry at its seq with exactly its hash. A head beyond the chain's end means entries were cut off the tail.
 * `sequenceEnd`, when known (SQLite's AUTOINCREMENT counter), must equal the last seq: a smaller chain lost its tail.
 */
export async function verifyAuditTrail(opts: {
  page: (afterSeq: number) => Promise<ChainedAuditEntry[]>;
  heads: SignedAuditHead[];
  signPublicKey: Uint8Array | null;
  sequenceEnd?: number | null;
}): Promise<AuditVerifyReport> {
  const chain = new AuditChainVerifier();
  let after = 0;
  for (;;) {
    const page = await opts.page(after);
    if (page.length === 0) break;
    let cont = true;
    for (const e of page) if (!(cont = chain.push(e))) break;
    if (!cont) break;
    after = page[page.length - 1]!.seq;
  }
  const end = chain.head?.seq ?? 0;
  if (!chain.firstBad && opts.sequenceEnd != null && opts.sequenceEnd > end) {
    chain.fail({
      seq: end + 1,
      reason: `entries ${end + 1}…${opts.sequenceEnd} were deleted from the end of the chain`,
    });
  }
  let badHead: AuditVerifyReport['badHead'] = null;
  let lastSignedHead: SignedAuditHead | null = null;
  let heads = 0;
  const sorted = [...opts.heads].sort((a, b) => a.seq - b.seq);
  for (const h of sorted) {
    heads++;
    if (opts.signPublicKey && !verifyAuditHead(h, opts.signPublicKey)) {
      badHead = { seq: h.seq, reason: 'the head signature does not verify under the coordinator key' };
      break;
    }
    const expected = chain.hashAt(h.seq);
    if (expected === undefined) {
      if (chain.firstBad) break; // the chain broke before this head: the break is the finding
      badHead = { seq: h.seq, reason: `a signed head covers seq ${h.seq} but the chain ends at seq ${end}` };
      chain.fail({
        seq: end + 1,
        reason: `entries ${end + 1}…${h.seq} were deleted from the end of the chain (a signed head covers them)`,
      });
      break;
    }
    if (expected !== h.headHash) {
      const from = (lastSignedHead?.seq ?? 0) + 1;
      badHead = { seq: h.seq, reason: 'the chain does not match the head signed at this seq' };
      chain.fail({
        seq: from,
        reason: `an entry between seq ${from} and ${h.seq} was rewritten (the chain no longer matches the head signed at seq ${h.seq})`,
      });
      break;
    }
    lastSignedHead = h;
  }
  const firstBad = chain.firstBad;
  return {
    ok: firstBad === null && badHead === null,
    entries: chain.checked,
    heads,
    head: chain.head,
    lastSignedHead: lastSignedHead
      ? {
          seq: lastSignedHead.seq,
          headHash: lastSignedHead.headHash,
          at: lastSignedHead.at,
          signature: lastSignedHead.signature,
        }
      : null,
    firstBad,
    badHead,
  };
}
