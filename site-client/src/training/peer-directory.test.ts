import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateIdentity, signSiteDirectoryEntry, toB64, type Identity } from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { Journal } from './journal';
import { trustedPeers, type TrustedPeer } from './peer-directory';

const coordinator = generateIdentity();
const entry = (siteId: string, keys: Pick<Identity, 'sign' | 'box'>, signer: Identity = coordinator) => {
  const e = { siteId, signPublicKey: toB64(keys.sign.publicKey), boxPublicKey: toB64(keys.box.publicKey) };
  return { ...e, directorySignature: signSiteDirectoryEntry(e, signer.sign.secretKey) };
};

describe('trustedPeers (the coordinator-signed site directory, pinned)', () => {
  const me = testEnrollment(coordinator, 'site-a');
  const b = generateIdentity();
  const journal = () => Journal.open(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-peers-')));

  test('takes signed entries, pins them, and returns the keys', () => {
    const j = journal();
    const peers = trustedPeers({
      members: [entry('site-a', me.identity), entry('site-b', b)],
      enrollment: me,
      journal: j,
    });
    expect(peers.get('site-b')!.signPublicKey).toEqual(b.sign.publicKey);
    expect(j.peer('site-b')).toMatchObject({ signPublicKey: toB64(b.sign.publicKey) });
    expect(j.peer('site-a')).toBeUndefined();
  });

  test('refuses an entry not signed by the pinned coordinator key, this site listed with other keys, a site twice, a key changed since pinned', () => {
    const j = journal();
    const refuse = (members: ReturnType<typeof entry>[], code: string) =>
      expect(() => trustedPeers({ members, enrollment: me, journal: j })).toThrow(expect.objectContaining({ code }));
    refuse([entry('site-a', me.identity), entry('site-b', b, generateIdentity())], 'SECAGG_UNTRUSTED_KEY');
    refuse([entry('site-a', generateIdentity()), entry('site-b', b)], 'SECAGG_UNTRUSTED_KEY');
    refuse([entry('site-a', me.identity), entry('site-b', b), entry('site-b', b)], 'SECAGG_INCONSISTENT');
    trustedPeers({ members: [entry('site-a', me.identity), entry('site-b', b)], enrollment: me, journal: j });
    refuse([entry('site-a', me.identity), entry('site-b', generateIdentity())], 'SECAGG_UNTRUSTED_KEY');
  });

  test('with a map of checked entries, an entry seen again is neither verified nor decoded again; another signature is', () => {
    const j = journal();
    const verified = new Map<string, TrustedPeer>();
    const members = [entry('site-a', me.identity), entry('site-b', b)];
    const first = trustedPeers({ members, enrollment: me, journal: { pinPeers: j.pinPeers.bind(j) }, verified });
    expect(verified.size).toBe(2);
    const again = trustedPeers({ members, enrollment: me, journal: { pinPeers: j.pinPeers.bind(j) }, verified });
    expect(again.get('site-b')).toBe(first.get('site-b'));
    const resigned = {
      ...entry('site-b', b),
      directorySignature: entry('site-b', b, generateIdentity()).directorySignature,
    };
    expect(() =>
      trustedPeers({
        members: [members[0]!, resigned],
        enrollment: me,
        journal: { pinPeers: j.pinPeers.bind(j) },
        verified,
      }),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }));
  });

  test('an entry with exactly the pinned keys is not verified again; a new peer and changed keys still are', () => {
    const j = journal();
    trustedPeers({ members: [entry('site-a', me.identity), entry('site-b', b)], enrollment: me, journal: j });
    const c = generateIdentity();
    const peerLookups: string[] = [];
    const counting = { pinPeers: j.pinPeers.bind(j), peer: (id: string) => (peerLookups.push(id), j.peer(id)) };
    // site-b's keys are pinned: its directory signature is not what makes them trusted any more.
    const unsigned = {
      ...entry('site-b', b),
      directorySignature: entry('site-b', b, generateIdentity()).directorySignature,
    };
    const peers = trustedPeers({
      members: [entry('site-a', me.identity), unsigned],
      enrollment: me,
      journal: counting,
    });
    expect(peers.get('site-b')!.boxPublicKey).toEqual(b.box.publicKey);
    expect(peerLookups).toContain('site-b');
    // A peer seen for the first time, or pinned keys swapped for others, still need the coordinator's signature.
    const forged = (id: string, keys: Identity) => ({
      ...entry(id, keys),
      directorySignature: entry(id, keys, generateIdentity()).directorySignature,
    });
    expect(() =>
      trustedPeers({ members: [entry('site-a', me.identity), forged('site-c', c)], enrollment: me, journal: counting }),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }));
    expect(() =>
      trustedPeers({ members: [entry('site-a', me.identity), forged('site-b', c)], enrollment: me, journal: counting }),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }));
    expect(j.peer('site-c')).toBeUndefined();
  });

  test('vouched for as a list (the neighbourhood signature checked by the caller): no entry checked, keys decoded once; pins and own keys still checked', () => {
    const j = journal();
    const vouched = new Map<string, TrustedPeer>();
    // Entries whose own signatures are not the coordinator's: the list's signature vouches for them.
    const unsigned = (id: string, keys: Pick<Identity, 'sign' | 'box'>) => entry(id, keys, generateIdentity());
    const members = [unsigned('site-a', me.identity), unsigned('site-b', b)];
    const first = trustedPeers({ members, enrollment: me, journal: j, vouched });
    expect(j.peer('site-b')).toMatchObject({ signPublicKey: toB64(b.sign.publicKey) });
    expect(trustedPeers({ members, enrollment: me, journal: j, vouched }).get('site-b')).toBe(first.get('site-b'));
    // Other keys than the ones pinned, or this site listed with keys not its own: refused all the same.
    expect(() =>
      trustedPeers({
        members: [unsigned('site-a', me.identity), unsigned('site-b', generateIdentity())],
        enrollment: me,
        journal: j,
        vouched,
      }),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }));
    expect(() =>
      trustedPeers({
        members: [unsigned('site-a', generateIdentity()), unsigned('site-b', b)],
        enrollment: me,
        journal: j,
        vouched,
      }),
    ).toThrow(expect.objectContaining({ code: 'SECAGG_UNTRUSTED_KEY' }));
    expect(j.peer('site-b')).toMatchObject({ signPublicKey: toB64(b.sign.publicKey) });
  });
});
