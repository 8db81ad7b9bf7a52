import { startTestCoordinator } from '../__tests__/harness';
import { run } from './__tests__/harness';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

describe('twinfed tokens (against a real coordinator)', () => {
  let c: Coord;
  beforeAll(async () => {
    c = await startTestCoordinator();
  });
  afterAll(async () => c.close());
  const op = (...args: string[]) => run(['--url', c.url, '--token', c.operatorToken, ...args]);

  test('creates a researcher token shown once with the dashboard address, lists it without its value, revokes it', async () => {
    const created = await op('tokens', 'create', 'Dr Ada Lovelace', '--study', 'default');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = /^token:\s+(tfr_\S+)$/m.exec(created.stdout)?.[1];
    const id = /^id:\s+(tok-\S+)$/m.exec(created.stdout)?.[1];
    expect(token).toBeDefined();
    expect(created.stdout).toContain(`${c.url}/dashboard`);
    expect((await fetch(`${c.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    const listed = await op('--json', 'tokens', 'list');
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout) as Array<{ id: string; role: string; revokedAt: string | null }>;
    expect(rows.find((t) => t.id === id)).toMatchObject({ role: 'researcher', revokedAt: null });
    expect(listed.stdout).not.toContain(token!);

    const revoked = await op('tokens', 'revoke', id!);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^Revoked token Dr Ada Lovelace/);
    expect((await fetch(`${c.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  test('refuses an unknown role before sending anything, and an unknown id with its code', async () => {
    const bad = await op('tokens', 'create', 'X', '--role', 'admin');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/admin/);
    const missing = await op('tokens', 'revoke', 'tok-nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
  });
});
