import { routes, type CurrentRound, type FederationView, type StudyView } from '@twinfed/shared';
import { enrollTestSite, json, operator, startTestCoordinator, testPlan } from '../__tests__/harness';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;
const errorOf = async (res: Response) => ({
  status: res.status,
  code: ((await res.json()) as { error: { code: string } }).error.code,
});

describe('studies over real HTTP', () => {
  let c: Coord;
  beforeAll(async () => {
    c = await startTestCoordinator({ store: 'sqlite' });
  });
  afterAll(async () => c.close());

  test('an operator creates a study (audited), reads it back and lists it after the default study', async () => {
    const res = await operator(c, 'POST', routes.studies, { name: 'Sepsis 2026', description: 'ICU onset, 48 h' });
    expect(res.status).toBe(201);
    const study = (await res.json()) as StudyView;
    expect(study).toEqual({
      id: expect.stringMatching(/^study-sepsis-2026-[0-9a-f]{6}$/),
      name: 'Sepsis 2026',
      description: 'ICU onset, 48 h',
      createdAt: expect.any(String),
    });
    expect(await json(operator(c, 'GET', routes.study(study.id)))).toEqual(study);
    const listed = await json<{ studies: StudyView[] }>(operator(c, 'GET', routes.studies));
    expect(listed.studies.map((s) => s.id)).toEqual(['default', study.id]);
    const audit = await json<{ entries: Array<{ action: string; subject: string; detail: object }> }>(
      operator(c, 'GET', `${routes.audit}?limit=100`),
    );
    expect(audit.entries.filter((e) => e.subject === study.id)).toEqual([
      expect.objectContaining({ action: 'study.create', detail: { name: 'Sepsis 2026' } }),
    ]);
  });

  test('bad input gets a stable code: a taken name, a name or description with control characters, an unknown id', async () => {
    await operator(c, 'POST', routes.studies, { name: 'Taken' });
    expect(await errorOf(await operator(c, 'POST', routes.studies, { name: 'Taken' }))).toEqual({
      status: 409,
      code: 'ALREADY_EXISTS',
    });
    expect(await errorOf(await operator(c, 'POST', routes.studies, { name: 'Bad\u001b[2J' }))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(
      await errorOf(await operator(c, 'POST', routes.studies, { name: 'Fine', description: 'two\nlines' })),
    ).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
    expect(await errorOf(await operator(c, 'POST', routes.studies, { name: 'Fine', extra: 1 }))).toEqual({
      status: 400,
      code: 'VALIDATION_FAILED',
    });
    expect(await errorOf(await operator(c, 'GET', routes.study('study-nope')))).toEqual({
      status: 404,
      code: 'UNKNOWN_STUDY',
    });
  });

  test('a federation belongs to the study it is created in, else to the default study; an unknown study creates nothing', async () => {
    const study = await json<StudyView>(operator(c, 'POST', routes.studies, { name: 'Heart' }));
    const inStudy = await json<FederationView>(
      operator(c, 'POST', routes.federations, { plan: testPlan({ name: 'in study' }), study: study.id }),
    );
    expect(inStudy.studyId).toBe(study.id);
    const plain = await json<FederationView>(operator(c, 'POST', routes.federations, { plan: testPlan() }));
    expect(plain.studyId).toBe('default');
    expect((await json<FederationView>(operator(c, 'GET', routes.federation(inStudy.id)))).studyId).toBe(study.id);
    const before = (await json<{ federations: FederationView[] }>(operator(c, 'GET', routes.federations))).federations;
    expect(
      await errorOf(
        await operator(c, 'POST', routes.federations, { plan: testPlan({ name: 'lost' }), study: 'study-nope' }),
      ),
    ).toEqual({ status: 404, code: 'UNKNOWN_STUDY' });
    const after = (await json<{ federations: FederationView[] }>(operator(c, 'GET', routes.federations))).federations;
    expect(after).toEqual(before);
  });

  test("a site's round instructions carry no study", async () => {
    const site = await enrollTestSite(c, 'Study-blind site');
    const study = await json<StudyView>(operator(c, 'POST', routes.studies, { name: 'Blind' }));
    const fed = await json<FederationView>(
      operator(c, 'POST', routes.federations, { plan: testPlan({ minSites: 1 }), study: study.id }),
    );
    const current = await json<CurrentRound>(site.request('GET', routes.currentRound(fed.id)));
    expect(current.federation.id).toBe(fed.id);
    expect(current.federation).not.toHaveProperty('studyId');
  });
});
