import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROTOCOL_VERSION, fingerprint, generateIdentity, publicPart, routes } from '@twinfed/shared';
import { cli, io, tmpSiteDir } from '../__tests__/cli';
import { siteStatePath } from '../identity/site-state';
import type { FetchLike } from '../transport/http';

const TOKEN = 'tfe_secret-one-time-token-0123456789';
const REMOTE = 'http://coordinator.invalid:8470';

/** A fetch spy standing in for the network: records every call; answers enrollment like a coordinator. */
function spy() {
  const calls: Array<{ url: string; body: string }> = [];
  const coordinator = generateIdentity();
  const keys = {
    protocol: PROTOCOL_VERSION,
    ...publicPart(coordinator),
    fingerprint: fingerprint(publicPart(coordinator)),
  };
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, body: init.body === undefined ? '' : (init.body as string) });
    if (new URL(url).pathname === routes.coordinatorKeys) return Response.json(keys);
    if (new URL(url).pathname === routes.enroll)
      return Response.json({ siteId: 'site-a', name: 'Cleveland', coordinator: keys });
    return Response.json({ error: { code: 'UNKNOWN_SITE', message: 'no such site' } }, { status: 401 });
  };
  return { fetch, calls };
}

describe('plain http to a remote coordinator is refused before anything is sent', () => {
  test('enroll --coordinator http://<remote>: INSECURE_URL, no request, token nowhere, nothing enrolled', async () => {
    const s = spy();
    const dataDir = tmpSiteDir('insecure');
    const t = io({ fetch: s.fetch });
    expect(await cli(['enroll', '--coordinator', REMOTE, '--token', TOKEN, '--data-dir', dataDir], t.deps)).toBe(1);
    expect(t.err()).toMatch(
      /^error: Refusing plain http to coordinator\.invalid:8470: .*Use https:\/\/.*\[INSECURE_URL\]\n$/,
    );
    expect(s.calls).toEqual([]);
    expect(t.err() + t.out()).not.toContain(TOKEN);
    expect(fs.existsSync(siteStatePath(dataDir))).toBe(false);
  });

  test('the same through TWINFED_COORDINATOR_URL', async () => {
    const s = spy();
    const t = io({ fetch: s.fetch, env: { TWINFED_COORDINATOR_URL: REMOTE } });
    expect(await cli(['enroll', '--token', TOKEN, '--data-dir', tmpSiteDir('insecure')], t.deps)).toBe(1);
    expect(t.err()).toContain('[INSECURE_URL]');
    expect(s.calls).toEqual([]);
  });

  test('without an injected fetch the refusal comes before any DNS lookup or connection (INSECURE_URL, not NETWORK)', async () => {
    const t = io();
    expect(
      await cli(['enroll', '--coordinator', REMOTE, '--token', TOKEN, '--data-dir', tmpSiteDir('insecure')], t.deps),
    ).toBe(1);
    expect(t.err()).toContain('[INSECURE_URL]');
  });

  test('--insecure-http (or TWINFED_INSECURE_HTTP=1) lets plain http through', async () => {
    for (const [args, env] of [
      [['--insecure-http'], {}],
      [[], { TWINFED_INSECURE_HTTP: '1' }],
    ] as const) {
      const s = spy();
      const dataDir = tmpSiteDir('insecure');
      const t = io({ fetch: s.fetch, env });
      expect(
        await cli(['enroll', '--coordinator', REMOTE, '--token', TOKEN, '--data-dir', dataDir, ...args], t.deps),
      ).toBe(0);
      expect(s.calls.map((c) => c.url)).toEqual([`${REMOTE}${routes.coordinatorKeys}`, `${REMOTE}${routes.enroll}`]);
      expect(s.calls[1]!.body).toContain(TOKEN);
      expect(fs.existsSync(siteStatePath(dataDir))).toBe(true);
    }
  });

  test('plain http to this machine stays allowed', async () => {
    for (const url of ['http://127.0.0.1:8470', 'http://localhost:8470', 'http://[::1]:8470']) {
      const s = spy();
      const t = io({ fetch: s.fetch });
      expect(
        await cli(['enroll', '--coordinator', url, '--token', TOKEN, '--data-dir', tmpSiteDir('insecure')], t.deps),
      ).toBe(0);
      expect(s.calls).toHaveLength(2); // the keys, then the enrollment
    }
  });

  test('run refuses a remote http coordinator, recorded at enrollment or given with --coordinator, unless --insecure-http', async () => {
    const dataDir = tmpSiteDir('insecure');
    const s = spy();
    expect(
      await cli(
        ['enroll', '--coordinator', REMOTE, '--token', TOKEN, '--data-dir', dataDir, '--insecure-http'],
        io({ fetch: s.fetch }).deps,
      ),
    ).toBe(0);
    s.calls.length = 0;
    const run = ['run', '--federation', 'fed-1', '--heart-disease', '0', '--data-dir', dataDir, '--no-push'];
    const recorded = io({ fetch: s.fetch });
    expect(await cli(run, recorded.deps)).toBe(1);
    expect(recorded.err()).toContain('[INSECURE_URL]');
    const flag = io({ fetch: s.fetch });
    expect(await cli([...run, '--coordinator', 'http://other.invalid'], flag.deps)).toBe(1);
    expect(flag.err()).toContain('[INSECURE_URL]');
    expect(s.calls).toEqual([]);
    // With --insecure-http the request goes out (and the spy's coordinator does not know the site).
    const allowed = io({ fetch: s.fetch });
    expect(await cli([...run, '--insecure-http'], allowed.deps)).toBe(1);
    expect(allowed.err()).toContain('[UNKNOWN_SITE]');
    expect(s.calls[0]?.url.startsWith(`${REMOTE}/`)).toBe(true);
  });
});

describe('--ca at enrollment', () => {
  test('is recorded in site.json and shown by status; a missing CA file is CONFIG_INVALID before any request', async () => {
    const dataDir = tmpSiteDir('insecure');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n';
    const caFile = path.join(path.dirname(dataDir), 'ca.pem');
    fs.writeFileSync(caFile, pem);
    const s = spy();
    const missing = io({ fetch: s.fetch });
    expect(
      await cli(
        [
          'enroll',
          '--coordinator',
          'https://coordinator.invalid',
          '--token',
          TOKEN,
          '--data-dir',
          dataDir,
          '--ca',
          `${caFile}.absent`,
        ],
        missing.deps,
      ),
    ).toBe(1);
    expect(missing.err()).toMatch(/--ca .*cannot read the CA certificate.*\[CONFIG_INVALID\]/);
    expect(s.calls).toEqual([]);
    expect(
      await cli(
        [
          'enroll',
          '--coordinator',
          'https://coordinator.invalid',
          '--token',
          TOKEN,
          '--data-dir',
          dataDir,
          '--ca',
          caFile,
        ],
        io({ fetch: s.fetch }).deps,
      ),
    ).toBe(0);
    expect((JSON.parse(fs.readFileSync(siteStatePath(dataDir), 'utf8')) as { tlsCa?: string }).tlsCa).toBe(pem);
    const st = io();
    expect(await cli(['status', '--data-dir', dataDir], st.deps)).toBe(0);
    expect(st.out()).toContain('Coordinator TLS: trusts the CA given with --ca at enrollment');
  });
});

describe('coordinatorAccess', () => {
  test('uses the CA recorded at enrollment; --ca (TWINFED_CA) overrides it; flag URL over recorded URL', async () => {
    const { coordinatorAccess } = await import('./context');
    const { loadSiteConfig } = await import('../config');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-access-'));
    const newer = '-----BEGIN CERTIFICATE-----\nMIIBnewer\n-----END CERTIFICATE-----\n';
    fs.writeFileSync(path.join(dir, 'new-ca.pem'), newer);
    const recorded = { coordinatorUrls: ['https://coordinator.invalid'], tlsCa: 'RECORDED' };
    const deps = io().deps;
    const plain = coordinatorAccess(deps, loadSiteConfig({}), recorded);
    expect([plain.baseUrls, plain.ca, typeof plain.fetch]).toEqual([
      ['https://coordinator.invalid'],
      'RECORDED',
      'function',
    ]);
    expect(coordinatorAccess(deps, loadSiteConfig({}, { caFile: path.join(dir, 'new-ca.pem') }), recorded).ca).toBe(
      newer,
    );
    expect(coordinatorAccess(deps, loadSiteConfig({ TWINFED_CA: path.join(dir, 'new-ca.pem') }), recorded).ca).toBe(
      newer,
    );
    expect(
      coordinatorAccess(deps, loadSiteConfig({}, { coordinatorUrls: ['https://other.invalid'] }), recorded).baseUrls,
    ).toEqual(['https://other.invalid']);
    expect(
      coordinatorAccess(deps, loadSiteConfig({}), { coordinatorUrls: ['https://coordinator.invalid'] }).fetch,
    ).toBeUndefined(); // system CAs, global fetch
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
