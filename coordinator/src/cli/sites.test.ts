import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OPERATOR_TOKEN, startFakeCoordinator } from './__tests__/fake-coordinator';
import { fakeCoordinatorCli, run } from './__tests__/harness';

const cli = fakeCoordinatorCli();
const op = cli.op;

describe('sites invite', () => {
  test('creates an invitation and prints the token with the enroll command', async () => {
    const r = await run(op('sites', 'invite', 'St Mary Hospital', '--ttl', '3600'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(cli.fake.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /v1/coordinator',
      'POST /v1/admin/invitations',
    ]);
    expect(cli.fake.seen[1]).toEqual({
      method: 'POST',
      path: '/v1/admin/invitations',
      authorization: `Bearer ${OPERATOR_TOKEN}`,
      body: { siteName: 'St Mary Hospital', ttlSeconds: 3600 },
    });
    expect(r.stdout).toMatch(/^token:\s+tfe_one-time-token-abcdef$/m);
    // The full command: URL, token and the fingerprint the site checks before it spends the token (no --ca over http).
    expect(r.stdout).toContain(
      `twinfed-site enroll --coordinator ${cli.fake.url} --token tfe_one-time-token-abcdef --fingerprint ${cli.fake.keys.fingerprint}\n`,
    );
    expect(r.stdout).toMatch(/^expires:\s+2025-01-02T04:04:05.000Z$/m);
  });

  test('--json prints the invitation and the enroll command as one JSON line', async () => {
    const r = await run(op('--json', 'sites', 'invite', 'Charite Berlin'));
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      invitationId: 'inv-1',
      siteName: 'Charite Berlin',
      token: 'tfe_one-time-token-abcdef',
      coordinatorUrl: cli.fake.url,
      fingerprint: cli.fake.keys.fingerprint,
    });
    expect(out.enrollCommand).toBe(
      `twinfed-site enroll --coordinator ${cli.fake.url} --token tfe_one-time-token-abcdef --fingerprint ${cli.fake.keys.fingerprint}`,
    );
    expect(cli.fake.seen[1]?.body).toEqual({ siteName: 'Charite Berlin', ttlSeconds: 86400 });
  });

  test('refuses a TTL outside the allowed range before sending anything (exit 2)', async () => {
    const r = await run(op('sites', 'invite', 'X', '--ttl', '10'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^twinfed: The invitation is not valid\. \(VALIDATION_FAILED\)\n {2}- ttlSeconds: Too small/,
    );
    expect(cli.fake.seen.filter((s) => s.method === 'POST')).toHaveLength(0);
  });
});

describe('operator token resolution', () => {
  test('reads <data-dir>/operator.token when no token is given', async () => {
    await writeFile(path.join(cli.dir, 'operator.token'), `${OPERATOR_TOKEN}\n`, { mode: 0o600 });
    const r = await run(['--url', cli.fake.url, '--data-dir', cli.dir, 'sites', 'list']);
    expect(r.stderr).toBe('');
    expect(cli.fake.seen[0]?.authorization).toBe(`Bearer ${OPERATOR_TOKEN}`);
  });

  test('takes TWINFED_TOKEN and TWINFED_URL from the injected environment', async () => {
    const r = await run(['sites', 'list'], {
      env: { TWINFED_URL: cli.fake.url, TWINFED_TOKEN: OPERATOR_TOKEN, TWINFED_DATA_DIR: cli.dir },
    });
    expect(r.code).toBe(0);
    expect(cli.fake.seen[0]?.authorization).toBe(`Bearer ${OPERATOR_TOKEN}`);
  });

  test('explains where it looked when there is no token at all', async () => {
    const r = await run(['--url', cli.fake.url, '--data-dir', cli.dir, 'sites', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `twinfed: No operator token: pass --token, set TWINFED_TOKEN, or point --data-dir at the coordinator's data directory (no file ${path.join(cli.dir, 'operator.token')}). (UNAUTHENTICATED)\n`,
    );
    expect(cli.fake.seen).toHaveLength(0);
  });
});

describe('sites list and revoke', () => {
  test('prints an aligned table', async () => {
    const r = await run(op('sites', 'list'));
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+FINGERPRINT\s+ENROLLED\s+LAST SEEN\s+MISSED$/);
    expect(lines[1]).toMatch(
      /^site-a\s+St Mary Hospital\s+active\s+aaaa-bbbb-cccc-dddd\s+2025-01-02T03:04:05.000Z\s+2025-01-02T03:04:05.000Z\s+0$/,
    );
    expect(lines[2]).toMatch(/^site-b\s+Charité\s+active\s+eeee-ffff-0000-1111\s+\S+\s+-\s+3$/);
    expect(lines[1]!.indexOf('St Mary')).toBe(lines[0]!.indexOf('NAME'));
  });

  test('says how to invite when there are no sites', async () => {
    cli.fake.sites.length = 0;
    const r = await run(op('sites', 'list'));
    expect(r.stdout).toContain('no sites enrolled yet');
  });

  test('revokes a site', async () => {
    const r = await run(op('sites', 'revoke', 'site-b'));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Revoked site Charité (site-b) at 2025-01-02T03:04:05.000Z.\n');
    expect(cli.fake.seen[0]).toMatchObject({ method: 'POST', path: '/v1/admin/sites/site-b/revoke' });
  });

  test('an unknown site id is one error line', async () => {
    const r = await run(op('sites', 'revoke', 'site-zz'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('twinfed: The site does not exist. (NOT_FOUND)\n');
  });
});

describe('error bodies from the coordinator', () => {
  test('401: a wrong token becomes one line with its code, no stack trace', async () => {
    const r = await run(['--url', cli.fake.url, '--token', 'wrong-token-123', 'sites', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('twinfed: The token is invalid, expired or already used. (INVALID_TOKEN)\n');
    expect(r.stdout).toBe('');
  });

  test.each([
    {
      status: 403,
      why: 'a researcher token may not invite',
      error: { code: 'FORBIDDEN', message: 'This role may not perform this action.' },
      stderr: 'twinfed: This role may not perform this action. (FORBIDDEN)\n',
    },
    {
      status: 409,
      why: 'a conflict keeps the server message',
      error: { code: 'ALREADY_EXISTS', message: 'A site named X already exists.' },
      stderr: 'twinfed: A site named X already exists. (ALREADY_EXISTS)\n',
    },
  ])('$status: $why', async ({ status, error, stderr }) => {
    cli.fake.canned.set('POST /v1/admin/invitations', { status, body: { error } });
    const r = await run(op('sites', 'invite', 'X'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(stderr);
  });

  test('--debug adds the request log and the stack trace', async () => {
    cli.fake.canned.set('GET /v1/admin/sites', {
      status: 409,
      body: { error: { code: 'ALREADY_EXISTS', message: 'x' } },
    });
    const r = await run(op('--debug', 'sites', 'list'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`[debug] → GET ${cli.fake.url}/v1/admin/sites`);
    expect(r.stderr).toContain('[debug] ← 409 GET /v1/admin/sites');
    expect(r.stderr).toContain('twinfed: x (ALREADY_EXISTS)\n');
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  test('an unreachable coordinator is a NETWORK error', async () => {
    const gone = await startFakeCoordinator();
    const url = gone.url;
    await gone.close();
    const r = await run(['--url', url, '--token', 't', 'sites', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^twinfed: Could not reach the coordinator at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\. \(NETWORK\)\n$/,
    );
  });
});
