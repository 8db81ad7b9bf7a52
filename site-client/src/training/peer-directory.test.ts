import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateIdentity, signSiteDirectoryEntry, toB64, type Identity } from '@twinfed/shared';
import { testEnrollment } from '../__tests__/fake-coordinator';
import { Journal } from './journal';
import { trustedPeers } from './peer-directory';

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
});
