import { routes, type CurrentRound, type PopulationReport } from '@twinfed/shared';
import { sealRawUpdate } from '../__tests__/hostile-envelope';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';

/**
 * Names that reach an operator's terminal or must tell principals apart (issue 10, findings 6 and 11): letters,
 * digits, `._-:` and space only, NFKC-normalised; site and token names in one script and not a look-alike of a
 * Latin name.
 */
describe('printable names at the API', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let site: TestSite;
  let fid: string;
  let cur: CurrentRound;

  beforeAll(async () => {
    c = await startTestCoordinator();
    site = await enrollTestSite(c, 'Alpha');
    await enrollTestSite(c, 'Beta');
    fid = ((await (await operator(c, 'POST', routes.federations, { plan: testPlan() })).json()) as { id: string }).id;
    cur = (await (await site.request('GET', routes.currentRound(fid))).json()) as CurrentRound;
  });
  afterAll(async () => c.close());

  const code = async (res: Response) =>
    `${res.status} ${((await res.json()) as { error?: { code: string } }).error?.code ?? 'ok'}`;
  const ESC_NAME = 'auc\u001b]0;pwned\u0007\u001b[2K';

  test.each([
    ['a Cyrillic А in a Latin name', 'Hospit\u0430l Saint-Louis'],
    ['an all-Cyrillic look-alike of a Latin name', '\u0410\u0412\u0421'],
    ['an all-Greek look-alike of a Latin name', '\u0391\u0392\u0395'],
    ['Latin mixed with Greek', 'Clinic \u03b1'],
    ['an escape sequence', `Clinic${ESC_NAME}`],
    ['a character outside the class', 'Clinic (north)'],
  ])('a site name with %s is refused (400 VALIDATION_FAILED)', async (_what, siteName) => {
    expect(await code(await operator(c, 'POST', routes.invitations, { siteName }))).toBe('400 VALIDATION_FAILED');
  });

  test('full-width letters are NFKC-normalised to ASCII and accepted', async () => {
    const res = await operator(c, 'POST', routes.invitations, {
      siteName: '\uff28\uff4f\uff53\uff50\uff49\uff54\uff41\uff4c 2',
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { siteName: string }).siteName).toBe('Hospital 2');
  });

  test('names in one non-Latin script, and Latin names with accents, are accepted', async () => {
    for (const siteName of ['Москва Больница 1', 'Clinique Médicale: Nord', '東京病院', 'Universitätsklinikum_Köln']) {
      expect(await code(await operator(c, 'POST', routes.invitations, { siteName }))).toBe('201 ok');
    }
  });

  test('a token name with a Cyrillic look-alike is refused; a plain one is accepted', async () => {
    expect(
      await code(
        await operator(c, 'POST', routes.tokens, { name: 'r\u0435searcher', role: 'researcher', studies: ['default'] }),
      ),
    ).toBe('400 VALIDATION_FAILED');
    expect(
      await code(
        await operator(c, 'POST', routes.tokens, {
          name: 'researcher: Jane Doe',
          role: 'researcher',
          studies: ['default'],
        }),
      ),
    ).toBe('201 ok');
  });

  test('a metric name with ESC is refused in an evaluation (400 VALIDATION_FAILED); a plain one is accepted', async () => {
    const vid = cur.round!.baseVersionId;
    expect(
      await code(await site.request('POST', routes.modelEvaluations(vid), { n: 10, metrics: { [ESC_NAME]: 0.5 } })),
    ).toBe('400 VALIDATION_FAILED');
    expect(
      await code(
        await site.request('POST', routes.modelEvaluations(vid), {
          n: 10,
          metrics: { auc: 0.5, 'f1_score.macro': 0.4 },
        }),
      ),
    ).toBe('201 ok');
  });

  test('a metric name with ESC is refused in an update header (400 INVALID_ENVELOPE), nothing stored', async () => {
    const weights = new Uint8Array(
      await (await site.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer(),
    );
    // Our own sealUpdate refuses such a header: build it the way a client that does not use our library could.
    const header = {
      federationId: fid,
      round: cur.round!.round,
      siteId: site.siteId,
      baseVersionId: cur.round!.baseVersionId,
      numExamples: 10,
      metrics: { [ESC_NAME]: 1 },
    };
    const bytes = sealRawUpdate({
      header,
      plaintext: weights,
      identity: site.identity,
      coordinatorBoxPublicKey: site.coordinatorBoxPublicKey,
    });
    expect(await code(await site.request('POST', routes.updates(fid, cur.round!.round), bytes))).toBe(
      '400 INVALID_ENVELOPE',
    );
    expect(await c.store.countUpdates(fid, cur.round!.round)).toBe(0);
  });

  test('a population report with an escape sequence in a tier name is refused (400 VALIDATION_FAILED)', async () => {
    const tier = `high${ESC_NAME}`;
    const report: PopulationReport = {
      versionId: cur.round!.baseVersionId,
      at: new Date().toISOString(),
      k: 10,
      epsilon: null,
      tiers: ['low', tier],
      ageBands: ['0-64', '65+'],
      cells: [
        { tier: 'low', ageBand: '0-64', count: 40 },
        { tier: 'low', ageBand: '65+', count: 30 },
        { tier, ageBand: '0-64', count: null },
        { tier, ageBand: '65+', count: null },
      ],
      totals: {
        all: 70,
        byTier: [
          { tier: 'low', count: 70 },
          { tier, count: null },
        ],
        byAgeBand: [
          { ageBand: '0-64', count: null },
          { ageBand: '65+', count: null },
        ],
      },
      suppressedCells: 2,
    };
    expect(await code(await site.request('POST', routes.populationReports, report))).toBe('400 VALIDATION_FAILED');
  });
});
