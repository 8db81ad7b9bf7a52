/** The audit routes over real HTTP: paging, signed heads, verification, no secrets, failed-authentication bursts. */
import {
  AuditListResponseSchema,
  AuditVerifyReportSchema,
  fromB64,
  routes,
  verifyAuditHead,
  type SignedAuditHead,
} from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan } from '../__tests__/harness';

/** Polls until `check` holds (the burst entry is appended after the 401 is sent). */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
}

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

async function getJson(c: Coord, p: string): Promise<unknown> {
  const res = await operator(c, 'GET', p);
  expect(res.status).toBe(200);
  return res.json();
}

describe('audit routes', () => {
  let c: Coord;
  beforeAll(async () => {
    c = await startTestCoordinator({ store: 'sqlite' });
  });
  afterAll(async () => c.close());

  test('every security-relevant action is chained, paged oldest first, heads signed, and the whole trail verifies', async () => {
    const study = (await (await operator(c, 'POST', routes.studies, { name: 'Audited study' })).json()) as {
      id: string;
    };
    const created = (await (
      await operator(c, 'POST', routes.tokens, { name: 'Dr Ada', role: 'researcher', studies: [study.id] })
    ).json()) as { id: string; token: string };
    await operator(c, 'POST', routes.revokeToken(created.id), {});
    const invite = (await (await operator(c, 'POST', routes.invitations, { siteName: 'Spare' })).json()) as {
      token: string;
    };
    const a = await enrollTestSite(c, 'Alpha');
    await enrollTestSite(c, 'Beta');
    await operator(c, 'POST', routes.revokeSite(a.siteId), {});
    const fed = (await (await operator(c, 'POST', routes.federations, { plan: testPlan() })).json()) as { id: string };

    const first = AuditListResponseSchema.parse(await getJson(c, `${routes.audit}?limit=3`));
    expect(first.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(first.next).toBe(3);
    const rest = AuditListResponseSchema.parse(await getJson(c, `${routes.audit}?after=3&limit=1000`));
    expect(rest.next).toBeNull();
    const all = [...first.entries, ...rest.entries];
    const actions = all.map((e) => e.action);
    for (const action of [
      'study.create',
      'token.create',
      'token.revoke',
      'site.invite',
      'site.enroll',
      'site.revoke',
      'federation.create',
      'version.publish',
      'round.open',
    ]) {
      expect(actions).toContain(action);
    }
    expect(all.find((e) => e.action === 'federation.create')?.subject).toBe(fed.id);
    const text = JSON.stringify(all);
    expect(text).not.toContain(created.token); // never a token
    expect(text).not.toContain(invite.token);
    expect(text).not.toContain(c.operatorToken);

    const { heads } = (await getJson(c, routes.auditHeads)) as { heads: SignedAuditHead[] };
    expect(heads).toHaveLength(1); // the initial version of the federation
    const coordinatorKey = fromB64(
      ((await (await fetch(c.url + routes.coordinatorKeys)).json()) as { signPublicKey: string }).signPublicKey,
    );
    expect(verifyAuditHead(heads[0]!, coordinatorKey)).toBe(true);
    expect(heads[0]!.headHash).toBe(all.find((e) => e.seq === heads[0]!.seq)?.hash);

    const report = AuditVerifyReportSchema.parse(await getJson(c, routes.auditVerify));
    expect(report).toMatchObject({ ok: true, entries: all.length, heads: 1, firstBad: null, badHead: null });
  });

  test('a bad paging query is a 400 with a stable code', async () => {
    for (const q of ['?limit=0', '?limit=5000', '?after=-1', '?after=x', '?what=1']) {
      const res = await operator(c, 'GET', routes.audit + q);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    }
  });
});

describe('failed-authentication bursts', () => {
  test('one audit entry per address and per credential per minute when the limiter trips, however many failures follow', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const c = await startTestCoordinator({ maxAuthFailuresPerMinute: 3, now: () => now });
    try {
      const guess = () =>
        fetch(c.url + routes.federations, { headers: { authorization: 'Bearer tfr_guessing-a-token-0000' } });
      const bursts = async () =>
        (await c.store.listAudit({ limit: 1000 })).filter((e) => e.action === 'auth.failure-burst');
      for (let i = 0; i < 2; i++) expect((await guess()).status).toBe(401);
      expect(await bursts()).toHaveLength(0); // below the limit: nothing recorded
      expect((await guess()).status).toBe(401);
      for (let i = 0; i < 5; i++) expect((await guess()).status).toBe(429);
      await until(async () => (await bursts()).length >= 2); // the appends run after the response
      const recorded = await bursts();
      // The same guessed token trips both keys it counts against: the client address and the credential.
      expect(recorded).toHaveLength(2);
      expect(recorded.find((e) => e.detail?.kind === 'address')).toMatchObject({
        actor: 'public',
        subject: expect.stringMatching(/^address:/),
        detail: { failures: 3 },
      });
      expect(recorded.find((e) => e.detail?.kind === 'credential')).toMatchObject({
        actor: 'public',
        subject: expect.stringMatching(/^credential:[0-9a-f]{16}$/),
        detail: { failures: 3 },
      });
      expect(JSON.stringify(recorded)).not.toContain('guessing-a-token');
      now += 61_000;
      for (let i = 0; i < 3; i++) await guess();
      await until(async () => (await bursts()).length >= 4);
      expect(await bursts()).toHaveLength(4); // a new minute, a new burst for each key
    } finally {
      await c.close();
    }
  });
});
