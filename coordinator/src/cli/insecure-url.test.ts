import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from './__tests__/harness';

const TOKEN = 'tfo_secret-operator-token-0123456789';

/** A fetch spy standing in for the network. */
function spy() {
  const calls: Array<{ url: string; authorization: string | null }> = [];
  const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: input instanceof Request ? input.url : input.toString(),
      authorization: new Headers(init?.headers).get('authorization'),
    });
    return Response.json({ sites: [] });
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

describe('the operator CLI refuses plain http to a remote coordinator before anything is sent', () => {
  test('--url http://<remote>: INSECURE_URL, exit 1, no request, the token nowhere in the output', async () => {
    const s = spy();
    const r = await run(['--url', 'http://coordinator.invalid:8470', '--token', TOKEN, 'sites', 'list'], {
      fetch: s.fetch,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^twinfed: Refusing plain http to coordinator\.invalid:8470: .*Use https:\/\/coordinator\.invalid:8470 .*\(INSECURE_URL\)\n$/,
    );
    expect(s.calls).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });

  test('the same from TWINFED_URL, and without an injected fetch (no DNS lookup: INSECURE_URL, not NETWORK)', async () => {
    const s = spy();
    const env = { TWINFED_URL: 'http://coordinator.invalid', TWINFED_TOKEN: TOKEN };
    expect((await run(['sites', 'invite', 'St Mary'], { env, fetch: s.fetch })).stderr).toContain('(INSECURE_URL)');
    expect(s.calls).toEqual([]);
    expect((await run(['sites', 'list'], { env })).stderr).toContain('(INSECURE_URL)');
  });

  test('--insecure-http (or TWINFED_INSECURE_HTTP=1) lets plain http through', async () => {
    for (const [args, env] of [
      [['--insecure-http'], {}],
      [[], { TWINFED_INSECURE_HTTP: 'true' }],
    ] as const) {
      const s = spy();
      const r = await run([...args, '--url', 'http://coordinator.invalid:8470', '--token', TOKEN, 'sites', 'list'], {
        fetch: s.fetch,
        env,
      });
      expect(r.code).toBe(0);
      expect(s.calls).toEqual([
        { url: 'http://coordinator.invalid:8470/v1/admin/sites', authorization: `Bearer ${TOKEN}` },
      ]);
    }
  });

  test('plain http to this machine and https anywhere stay allowed', async () => {
    for (const url of [
      'http://127.0.0.1:8470',
      'http://localhost:8470',
      'http://[::1]:8470',
      'https://coordinator.invalid',
    ]) {
      const s = spy();
      expect((await run(['--url', url, '--token', TOKEN, 'sites', 'list'], { fetch: s.fetch })).code).toBe(0);
      expect(s.calls).toHaveLength(1);
    }
  });

  test('commands that never contact the URL are not refused (coordinator start reads TWINFED_URL only for its context)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'twinfed-tls-init-'));
    try {
      const r = await run(['tls', 'init', '--out', dir, '--host', 'coordinator.invalid'], {
        env: { TWINFED_URL: 'http://coordinator.invalid' },
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a --ca file that is missing or not a certificate is CONFIG_INVALID before any request', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'twinfed-ca-'));
    try {
      const s = spy();
      const missing = await run(
        [
          '--url',
          'https://coordinator.invalid',
          '--token',
          TOKEN,
          '--ca',
          path.join(dir, 'absent.pem'),
          'sites',
          'list',
        ],
        { fetch: s.fetch },
      );
      expect(missing.stderr).toMatch(/--ca .*absent\.pem: cannot read the CA certificate .*\(CONFIG_INVALID\)/);
      await writeFile(path.join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
      const key = await run(['--url', 'https://coordinator.invalid', '--token', TOKEN, 'sites', 'list'], {
        fetch: s.fetch,
        env: { TWINFED_CA: path.join(dir, 'key.pem') },
      });
      expect(key.stderr).toMatch(/TWINFED_CA .*not a PEM certificate.*\(CONFIG_INVALID\)/);
      expect(s.calls).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
