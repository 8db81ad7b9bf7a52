import { shareBoxesDigest, type SecaggShares } from '@twinfed/shared';
import type { SecaggMessageRecord } from '../store';
import { buildSecaggRelay } from './secagg-relay';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A stored share message of `from` with one box for each of `to` (contents name sender and recipient). */
function stored(from: string, to: string[], kind: SecaggMessageRecord['kind'] = 'shares'): SecaggMessageRecord {
  const body: SecaggShares = {
    maskPublicKey: b64(`mask of ${from}`),
    shares: to.map((t) => ({ to: t, nonce: b64(`nonce ${from}>${t}`), ciphertext: b64(`box ${from}>${t}`) })),
    signature: b64(`signature of ${from}`),
  };
  return { federationId: 'f', round: 1, siteId: from, kind, payload: JSON.stringify(body), createdAt: 't' };
}

/** What the coordinator relayed before the relay existed: every message parsed again for each poll. */
function freshParse(u2: string[], messages: SecaggMessageRecord[], siteId: string) {
  const parsed = messages
    .filter((m) => m.kind === 'shares' && u2.includes(m.siteId))
    .map((m) => ({ siteId: m.siteId, body: JSON.parse(m.payload) as SecaggShares }));
  return {
    survivors: parsed.map((p) => ({
      siteId: p.siteId,
      maskPublicKey: p.body.maskPublicKey,
      boxesSha256: shareBoxesDigest(p.body.shares),
      signature: p.body.signature,
    })),
    sharesForMe: parsed.flatMap((p) =>
      p.body.shares
        .filter((s) => s.to === siteId)
        .map((s) => ({ from: p.siteId, nonce: s.nonce, ciphertext: s.ciphertext })),
    ),
  };
}

describe('the secure-aggregation relay of U2', () => {
  // A ring of five: each shares with its two neighbours and itself; f shared too late (not in U2).
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const ring = (i: number) => [ids[(i + 4) % 5]!, ids[i]!, ids[(i + 1) % 5]!];
  const messages = [
    ...ids.map((id, i) => stored(id, ring(i))),
    stored('f', ['a', 'b', 'f']),
    stored('a', ['x'], 'reveal'),
  ];
  const u2 = { siteIds: ids };

  test('gives each site exactly the boxes addressed to it, and the same survivors and boxes as a fresh parse', () => {
    const relay = buildSecaggRelay(u2, messages);
    for (const [i, id] of ids.entries()) {
      const fresh = freshParse(ids, messages, id);
      expect(relay.survivors).toEqual(fresh.survivors);
      expect(relay.boxesFor(id)).toEqual(fresh.sharesForMe);
      // Only its own: from itself and its two neighbours, each box the one its sender addressed to it.
      expect(relay.boxesFor(id).map((b) => b.from)).toEqual([...ring(i)].sort());
      for (const box of relay.boxesFor(id))
        expect(Buffer.from(box.ciphertext, 'base64').toString()).toBe(`box ${box.from}>${id}`);
    }
    // The late sender is no survivor, and its boxes reach nobody.
    expect(relay.survivors.map((s) => s.siteId)).toEqual(ids);
    expect(relay.boxesFor('a').some((b) => b.from === 'f')).toBe(false);
    expect(relay.boxesFor('f')).toEqual([]);
    expect(relay.boxesFor('x')).toEqual([]);
    expect(relay.maskPublicKeys.get('c')).toBe(b64('mask of c'));
    expect(relay.maskPublicKeys.has('f')).toBe(false);
  });

  test("takes the digest of a site's boxes from the request that stored them when it has it, hashes the others", () => {
    const known = new Map([['b', 'digest b already computed']]);
    const relay = buildSecaggRelay(u2, messages, (id) => known.get(id));
    const fresh = freshParse(ids, messages, 'a').survivors;
    expect(relay.survivors).toEqual(fresh.map((m) => (m.siteId === 'b' ? { ...m, boxesSha256: known.get('b') } : m)));
    expect(relay.survivorIds).toEqual([...ids].sort());
  });

  test('what it hands out cannot be changed by a caller', () => {
    const relay = buildSecaggRelay(u2, messages);
    expect(Object.isFrozen(relay.survivors)).toBe(true);
    expect(Object.isFrozen(relay.survivors[0])).toBe(true);
    expect(Object.isFrozen(relay.survivorIds)).toBe(true);
    expect(Object.isFrozen(relay.boxesFor('a')[0])).toBe(true);
    expect(Object.isFrozen(relay.boxesFor('a'))).toBe(true);
    expect(() => (relay.boxesFor('a') as unknown[]).push({})).toThrow(TypeError);
  });
});
