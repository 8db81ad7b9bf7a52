import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  PROTOCOL_VERSION,
  fingerprint,
  generateIdentity,
  publicPart,
  verifyEnrollProof,
  type EnrollRequest,
} from '@twinfed/shared';
import type { FetchLike } from '../transport/http';
import { enroll } from './enroll';
import { loadEnrollment } from './load';
import { identityPath, readSiteState } from './site-state';

const coordinator = generateIdentity();
const coordinatorKeys = {
  protocol: PROTOCOL_VERSION,
  ...publicPart(coordinator),
  fingerprint: fingerprint(publicPart(coordinator)),
};
const TOKEN = 'tok-0123456789abcdef';

/** A coordinator's enrollment endpoints: one-time tokens, proof of key possession checked, answers with its keys (or `answerKeys`). */
function fakeCoordinator(keys: typeof coordinatorKeys = coordinatorKeys, answerKeys: typeof coordinatorKeys = keys) {
  const used = new Set<string>();
  const enrolled: EnrollRequest[] = [];
  const fetch: FetchLike = async (url, init) => {
    const { pathname } = new URL(url);
    if (pathname === '/v1/coordinator') return Response.json(keys);
    if (pathname === '/v1/enroll' && init.method === 'POST') {
      const body = JSON.parse(init.body as string) as EnrollRequest;
      if (!verifyEnrollProof({ token: body.token, coordinator, site: body, proof: body.proof }))
        return Response.json({ error: { code: 'ENROLL_PROOF_INVALID', message: 'no proof' } }, { status: 401 });
      if (body.token !== TOKEN || used.has(body.token))
        return Response.json(
          { error: { code: 'INVALID_TOKEN', message: 'The token is invalid, expired or already used.' } },
          { status: 401 },
        );
      used.add(body.token);
      enrolled.push(body);
      return Response.json({ siteId: `site-${enrolled.length}`, name: 'Cleveland', coordinator: answerKeys });
    }
    return Response.json({ error: { code: 'NOT_FOUND', message: 'no' } }, { status: 404 });
  };
  return { fetch, enrolled };
}

const tmp = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-enroll-')), 'site');

describe('enroll', () => {
  test('generates keys, enrolls with the token, pins the coordinator keys and keeps the secret key 0600', async () => {
    const dataDir = tmp();
    const c = fakeCoordinator();
    const { state, identityFile } = await enroll({
      coordinatorUrl: 'https://coord.test/',
      token: TOKEN,
      dataDir,
      fetch: c.fetch,
    });
    expect(state).toMatchObject({
      siteId: 'site-1',
      name: 'Cleveland',
      coordinatorUrls: ['https://coord.test'],
      coordinator: { ...publicPart(coordinator), fingerprint: coordinatorKeys.fingerprint },
    });
    expect(readSiteState(dataDir)).toEqual(state);
    expect(identityFile).toBe(identityPath(dataDir));
    expect(fs.statSync(identityFile).mode & 0o777).toBe(0o600);
    const loaded = loadEnrollment(dataDir);
    expect(publicPart(loaded.identity)).toEqual({
      signPublicKey: c.enrolled[0]!.signPublicKey,
      boxPublicKey: c.enrolled[0]!.boxPublicKey,
    });
    expect(Buffer.from(loaded.coordinator.signPublicKey)).toEqual(Buffer.from(coordinator.sign.publicKey));
    expect(c.enrolled[0]!.protocol).toBe(PROTOCOL_VERSION);
  });

  test('refuses to enroll twice into the same data directory unless forced; --force moves the journal aside', async () => {
    const dataDir = tmp();
    const c = fakeCoordinator();
    await enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir, fetch: c.fetch });
    fs.writeFileSync(path.join(dataDir, 'rounds.json'), '{"version":1,"uploads":[],"evaluations":[]}');
    fs.writeFileSync(path.join(dataDir, 'rounds.log'), '');
    const again = fakeCoordinator();
    await expect(
      enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir, fetch: again.fetch }),
    ).rejects.toMatchObject({ code: 'ALREADY_EXISTS', message: expect.stringContaining('site-1') });
    expect(again.enrolled).toHaveLength(0); // the token was not spent
    const { state } = await enroll({
      coordinatorUrl: 'https://coord.test',
      token: TOKEN,
      dataDir,
      fetch: again.fetch,
      force: true,
    });
    expect(state.siteId).toBe('site-1');
    expect(fs.existsSync(path.join(dataDir, 'rounds.json'))).toBe(false);
    expect(fs.readdirSync(dataDir).some((f) => f.startsWith('rounds.json.') && f.endsWith('.bak'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'rounds.log'))).toBe(false); // its append-only log goes with it
    expect(loadEnrollment(dataDir).state.fingerprint).toBe(state.fingerprint);
  });

  test('stops before spending the token when the coordinator is not the expected one', async () => {
    const c = fakeCoordinator();
    const other = fingerprint(publicPart(generateIdentity()));
    const dataDir = tmp();
    await expect(
      enroll({
        coordinatorUrl: 'https://coord.test',
        token: TOKEN,
        dataDir,
        fetch: c.fetch,
        expectedFingerprint: other,
      }),
    ).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(c.enrolled).toHaveLength(0);
    expect(fs.existsSync(dataDir)).toBe(false);
    // the right fingerprint, written in upper case without dashes, is accepted
    const ok = await enroll({
      coordinatorUrl: 'https://coord.test',
      token: TOKEN,
      dataDir,
      fetch: c.fetch,
      expectedFingerprint: coordinatorKeys.fingerprint.replace(/-/g, '').toUpperCase(),
    });
    expect(ok.state.coordinator.fingerprint).toBe(coordinatorKeys.fingerprint);
  });

  test('refuses keys that do not match the fingerprint the coordinator announced', async () => {
    const c = fakeCoordinator({ ...coordinatorKeys, fingerprint: fingerprint(publicPart(generateIdentity())) });
    const dataDir = tmp();
    await expect(
      enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir, fetch: c.fetch }),
    ).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(fs.existsSync(path.join(dataDir, 'site.json'))).toBe(false);
  });

  test('proves possession of both keys it registers, for this token and this coordinator only', async () => {
    const c = fakeCoordinator();
    const dataDir = tmp();
    await enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir, fetch: c.fetch });
    const sent = c.enrolled[0]!;
    const site = { signPublicKey: sent.signPublicKey, boxPublicKey: sent.boxPublicKey };
    expect(verifyEnrollProof({ token: TOKEN, coordinator, site, proof: sent.proof })).toBe(true);
    expect(verifyEnrollProof({ token: `${TOKEN}x`, coordinator, site, proof: sent.proof })).toBe(false); // another token
    expect(verifyEnrollProof({ token: TOKEN, coordinator: generateIdentity(), site, proof: sent.proof })).toBe(false); // another coordinator
    expect(
      verifyEnrollProof({
        token: TOKEN,
        coordinator,
        site: { ...site, boxPublicKey: publicPart(generateIdentity()).boxPublicKey },
        proof: sent.proof,
      }),
    ).toBe(false);
    // Key file and proof agree: the keys proven are the keys stored.
    expect(publicPart(loadEnrollment(dataDir).identity)).toEqual(site);
  });

  test('refuses a coordinator that answers the enrollment with other keys than it announced, and pins nothing', async () => {
    const impostor = publicPart(generateIdentity());
    const c = fakeCoordinator(coordinatorKeys, { ...coordinatorKeys, ...impostor, fingerprint: fingerprint(impostor) });
    const dataDir = tmp();
    await expect(
      enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir, fetch: c.fetch }),
    ).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(fs.existsSync(path.join(dataDir, 'site.json'))).toBe(false);
  });

  test('a used token comes back as INVALID_TOKEN and leaves nothing behind', async () => {
    const c = fakeCoordinator();
    await enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir: tmp(), fetch: c.fetch });
    const dataDir = tmp();
    await expect(
      enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir, fetch: c.fetch }),
    ).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(fs.existsSync(dataDir)).toBe(false);
  });
});

describe('loadEnrollment', () => {
  test('says how to enroll when the directory is empty', () => {
    expect(() => loadEnrollment(tmp())).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_SITE', message: expect.stringContaining('twinfed-site enroll') }),
    );
  });

  test('refuses a key file that does not belong to site.json, or that others can read', async () => {
    const dataDir = tmp();
    await enroll({ coordinatorUrl: 'https://coord.test', token: TOKEN, dataDir, fetch: fakeCoordinator().fetch });
    const state = readSiteState(dataDir)!;
    fs.writeFileSync(
      path.join(dataDir, 'site.json'),
      JSON.stringify({ ...state, fingerprint: fingerprint(publicPart(generateIdentity())) }),
    );
    expect(() => loadEnrollment(dataDir)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('does not belong') }),
    );
    fs.writeFileSync(path.join(dataDir, 'site.json'), JSON.stringify(state));
    fs.chmodSync(identityPath(dataDir), 0o644);
    expect(() => loadEnrollment(dataDir)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
