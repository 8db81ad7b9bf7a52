import { routes, type ApiTokenCreated, type ApiTokenView } from '@twinfed/shared';
import { operator, startTestCoordinator } from '../__tests__/harness';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

const asBearer = (c: Coord, token: string, p: string) =>
  fetch(c.url + p, { headers: { authorization: `Bearer ${token}` } });

describe('operator and researcher tokens over real HTTP', () => {
  let c: Coord;
  beforeAll(async () => {
    c = await startTestCoordinator();
  });
  afterAll(async () => c.close());

  test('an operator creates a researcher token, shown once; it reads but cannot write; revoked, it is refused', async () => {
    const res = await operator(c, 'POST', routes.tokens, {
      name: 'Dr Ada Lovelace',
      role: 'researcher',
      studies: ['default'],
    });
    expect(res.status).toBe(201);
    const created = (await res.json()) as ApiTokenCreated;
    expect(created).toMatchObject({
      name: 'Dr Ada Lovelace',
      role: 'researcher',
      studies: ['default'],
      revokedAt: null,
    });
    expect(created.token).toMatch(/^tfr_/);

    expect((await asBearer(c, created.token, routes.federations)).status).toBe(200);
    expect((await asBearer(c, created.token, routes.tokens)).status).toBe(403);
    const write = await fetch(c.url + routes.tokens, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', role: 'operator' }),
    });
    expect(write.status).toBe(403);

    const listed = (await (await operator(c, 'GET', routes.tokens)).json()) as { tokens: ApiTokenView[] };
    const mine = listed.tokens.find((t) => t.id === created.id)!;
    expect(mine).toEqual({
      id: created.id,
      name: 'Dr Ada Lovelace',
      role: 'researcher',
      studies: ['default'],
      createdAt: created.createdAt,
      revokedAt: null,
    });
    expect(JSON.stringify(listed)).not.toContain(created.token); // neither value nor hash is ever listed
    expect(JSON.stringify(listed)).not.toMatch(/tokenHash|token_hash/);

    const revoked = await operator(c, 'POST', routes.revokeToken(created.id), {});
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as ApiTokenView).revokedAt).not.toBeNull();
    expect((await asBearer(c, created.token, routes.federations)).status).toBe(401);

    const audit = (await (await operator(c, 'GET', `${routes.audit}?limit=50`)).json()) as {
      entries: Array<{ action: string; subject: string }>;
    };
    expect(
      audit.entries
        .filter((e) => e.subject === created.id)
        .map((e) => e.action)
        .sort(),
    ).toEqual(['token.create', 'token.revoke']);
  });

  test('a researcher token names its studies (required, known); an operator token names none', async () => {
    const issue = async (body: object) => {
      const r = await operator(c, 'POST', routes.tokens, body);
      const e = ((await r.json()) as { error: { code: string; details?: Array<{ path: string; message: string }> } })
        .error;
      return { status: r.status, code: e.code, issues: (e.details ?? []).map((d) => `${d.path}: ${d.message}`) };
    };
    expect(await issue({ name: 'No study', role: 'researcher' })).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      issues: ['studies: a researcher token needs at least one study'],
    });
    expect(await issue({ name: 'Empty', role: 'researcher', studies: [] })).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(await issue({ name: 'Twice', role: 'researcher', studies: ['default', 'default'] })).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      issues: ['studies: each study once'],
    });
    expect(await issue({ name: 'Scoped op', role: 'operator', studies: ['default'] })).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
      issues: ['studies: operator tokens see every study: give no studies'],
    });
    expect(await issue({ name: 'Unknown', role: 'researcher', studies: ['default', 'study-nope'] })).toEqual({
      status: 404,
      code: 'UNKNOWN_STUDY',
      issues: [],
    });
    const names = ((await (await operator(c, 'GET', routes.tokens)).json()) as { tokens: ApiTokenView[] }).tokens.map(
      (t) => t.name,
    );
    expect(names.filter((n) => ['No study', 'Empty', 'Twice', 'Scoped op', 'Unknown'].includes(n))).toEqual([]);
    const op = (await (
      await operator(c, 'POST', routes.tokens, { name: 'Second operator', role: 'operator' })
    ).json()) as ApiTokenCreated;
    expect(op.studies).toEqual([]);
  });

  test('bad input gets a stable 4xx code', async () => {
    const bad = await operator(c, 'POST', routes.tokens, { name: 'x', role: 'admin' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    const missing = await operator(c, 'POST', routes.revokeToken('tok-nope'), {});
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
