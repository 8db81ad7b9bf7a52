/**
 * The researchers' dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
 * a real coordinator with two sites, two published rounds, site evaluations and a population report, in study A; and
 * study B with a federation and a site of its own, which a researcher of study A must not see anywhere.
 */
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  PlanSchema,
  deserializeWeights,
  generateIdentity,
  gaussianDpEpsilon,
  planDigest,
  routes,
  sealCrossSiteModel,
  fromB64,
  type ApiTokenCreated,
  type CrossSiteSession,
  type CurrentRound,
  type WeightSet,
} from '@twinfed/shared';
import { enrollTestSite, operator, startTestCoordinator, testPlan, type TestSite } from '../__tests__/harness';
import { buildVersion } from '../registry/registry';

const CHROMIUM = '/usr/bin/chromium';
// Launch flags that work on these machines (env machines/node.md): no sandbox as root, no background networking.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Study B's central DP: one published round spends {@link SECRET_EPSILON}. */
const SECRET_DP = { clip: 0.5, noiseMultiplier: 1.5, delta: 1e-5 };
const SECRET_EPSILON = gaussianDpEpsilon({ noiseMultiplier: SECRET_DP.noiseMultiplier, releases: 1, delta: 1e-5 });
const XSS = '<img src=x onerror="window.__xss=1">';
/** 50 rows: 30 predicted ~0.15 (20 % positive), 15 ~0.82 (73.3 % positive), 5 withheld; ECE = (30·0.05 + 15·0.0867 + 5·0.05) / 50. */
const CALIBRATION = {
  ece: 0.061,
  bins: Array.from({ length: 10 }, (_, i) =>
    i === 1
      ? { n: 30, meanPredicted: 0.15, observedRate: 0.2 }
      : i === 5
        ? { n: 5, meanPredicted: null, observedRate: null }
        : i === 8
          ? { n: 15, meanPredicted: 0.82, observedRate: 0.7333 }
          : { n: 0, meanPredicted: null, observedRate: null },
  ),
};

/** After recalibration at Alpha: three released bins close to the diagonal. */
const CALIBRATION_AFTER = {
  ece: 0.021,
  bins: Array.from({ length: 10 }, (_, i) =>
    i === 2
      ? { n: 20, meanPredicted: 0.22, observedRate: 0.2 }
      : i === 3
        ? { n: 15, meanPredicted: 0.31, observedRate: 0.3333 }
        : i === 7
          ? { n: 15, meanPredicted: 0.71, observedRate: 0.7333 }
          : { n: 0, meanPredicted: null, observedRate: null },
  ),
};

/** The browser globals the page functions below touch (this test program is compiled without the DOM lib). */
interface Dom {
  __xss?: number;
  document: {
    querySelector(sel: string): { textContent: string | null } | null;
    querySelectorAll(sel: string): ArrayLike<{ querySelector(sel: string): { textContent: string | null } | null }>;
  };
  sessionStorage: { getItem(key: string): string | null };
}
interface Element {
  textContent: string | null;
  value?: string;
  querySelectorAll(sel: string): ArrayLike<Element>;
}

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

async function publishRound(c: Coord, fid: string, sites: TestSite[], values: number[]): Promise<void> {
  const cur = (await (await sites[0]!.request('GET', routes.currentRound(fid))).json()) as CurrentRound;
  const base = cur.round!.baseVersionId;
  const bytes = new Uint8Array(await (await sites[0]!.request('GET', routes.modelWeights(base))).arrayBuffer());
  const layout = (
    (await (await sites[0]!.request('GET', routes.model(base))).json()) as { meta: { layout: WeightSet['layout'] } }
  ).meta.layout;
  const w = deserializeWeights(bytes, { expectedLayout: layout });
  for (const [i, s] of sites.entries()) {
    const weights = { layout: w.layout, data: new Float32Array(w.data.length).fill(values[i]!) };
    const res = await s.request(
      'POST',
      routes.updates(fid, cur.round!.round),
      s.seal({
        federationId: fid,
        round: cur.round!.round,
        baseVersionId: base,
        weights,
        numExamples: 10 * (i + 1),
        metrics: { trainLoss: values[i]! },
      }),
    );
    if (res.status !== 201) throw new Error(`upload ${res.status}`);
  }
}

/**
 * The cross-site evaluation of the completed federation through the real site API: both sites seal a (stand-in)
 * local model to both, Alpha reports its metrics, Beta withholds its column (fewer test rows than its k).
 */
async function crossSiteEvaluation(fid: string, sites: TestSite[]): Promise<void> {
  for (const s of sites) {
    const session = (await (await s.request('GET', routes.crossSiteSession(fid))).json()) as CrossSiteSession;
    const boxes = session.candidates.map((c) =>
      sealCrossSiteModel({
        federationId: fid,
        sender: s.siteId,
        recipient: c.siteId,
        weights: new Uint8Array(16).fill(7),
        senderBoxSecretKey: s.identity.box.secretKey,
        recipientBoxPublicKey: fromB64(c.boxPublicKey),
      }),
    );
    const res = await s.request('POST', routes.crossSiteAnswer(fid), { boxes });
    if (res.status !== 201) throw new Error(`cross-site answer ${res.status}: ${await res.text()}`);
  }
  const [alpha, beta] = sites as [TestSite, TestSite];
  const results = [
    [alpha, { n: 50, global: 0.81, local: { [alpha.siteId]: 0.77, [beta.siteId]: 0.64 } }],
    [beta, { withheld: true }],
  ] as const;
  for (const [s, body] of results) {
    const res = await s.request('POST', routes.crossSiteResults(fid), body);
    if (res.status !== 201) throw new Error(`cross-site result ${res.status}: ${await res.text()}`);
  }
}

describe('researcher dashboard in headless Chromium', () => {
  let c: Coord;
  let browser: Browser;
  let page: Page;
  let researcher: string;
  let fid: string;
  const secret = { study: '', fid: '', siteId: '' };
  const problems: string[] = [];
  const methods = new Set<string>();

  /** The privacy ledger table's rows, as cell texts. */
  const ledgerRows = () =>
    page.$$eval('#privacy-ledger tbody tr', (rows) =>
      rows.map((r) => Array.from((r as unknown as Element).querySelectorAll('td'), (td) => td.textContent ?? '')),
    );

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`,
      );
    c = await startTestCoordinator();
    const study = async (name: string) =>
      ((await (await operator(c, 'POST', routes.studies, { name })).json()) as { id: string }).id;
    const studyA = await study('Sepsis study');
    secret.study = await study('Secret trial study');
    const sites = [await enrollTestSite(c, 'Alpha Hospital'), await enrollTestSite(c, 'Beta Clinic')];
    fid = (
      (await (
        await operator(c, 'POST', routes.federations, {
          plan: testPlan({
            name: 'Sepsis risk 2026',
            rounds: 2,
            minSites: 2,
            crossSiteEvaluation: { deadlineSeconds: 600 },
          }),
          study: studyA,
        })
      ).json()) as { id: string }
    ).id;
    const planSha256 = planDigest(
      PlanSchema.parse(((await (await operator(c, 'GET', routes.federation(fid))).json()) as { plan: unknown }).plan),
    );
    const decided = await sites[0]!.request('PUT', routes.federationDecision(fid), {
      decision: 'approved',
      planSha256,
    });
    if (decided.status !== 200) throw new Error(`decision ${decided.status}`);
    await publishRound(c, fid, sites, [0.1, 0.2]);
    await publishRound(c, fid, sites, [0.3, 0.4]);
    for (const round of [0, 1, 2]) {
      for (const [i, s] of sites.entries()) {
        const res = await s.request('POST', routes.modelEvaluations(`${fid}.v${round}`), {
          n: 50,
          metrics: { auc: 0.6 + 0.1 * round + 0.01 * i, accuracy: 0.7 },
          // The newest version's calibration at Alpha: two released bins and one withheld (below its k).
          ...(round === 2 && i === 0 ? { calibration: CALIBRATION } : {}),
        });
        if (res.status !== 201) throw new Error(`evaluation ${res.status}`);
      }
    }
    await crossSiteEvaluation(fid, sites);
    // A metric name that is markup: the API refuses it now (printable names only)...
    const hostile = await sites[1]!.request('POST', routes.modelEvaluations(`${fid}.v2`), {
      n: 50,
      metrics: { auc: 0.81, [XSS]: 1 },
    });
    if (hostile.status !== 400) throw new Error(`a markup metric name was not refused: ${hostile.status}`);
    // ...and the dashboard must still render one as text if it ever reaches the store (defence in depth).
    await c.store.putEvaluation({
      versionId: `${fid}.v2`,
      siteId: sites[1]!.siteId,
      n: 50,
      metrics: { auc: 0.81, [XSS]: 1 },
      createdAt: new Date().toISOString(),
    });
    // Study B: a federation of its own, with central DP, and a site enrolled after study A's rounds (so it takes part
    // in B only); one DP round of B is published, so the privacy ledger charges its ε to Alpha, Beta and Gamma.
    const gamma = await enrollTestSite(c, 'Gamma Trial Site');
    secret.siteId = gamma.siteId;
    secret.fid = (
      (await (
        await operator(c, 'POST', routes.federations, {
          plan: testPlan({ name: 'Secret trial B', rounds: 2, minSites: 3, privacy: { dp: SECRET_DP } }),
          study: secret.study,
        })
      ).json()) as { id: string }
    ).id;
    await publishRound(c, secret.fid, [...sites, gamma], [0.1, 0.2, 0.3]);
    // Cohort statistics: a query of study A that Alpha releases and Beta partly suppresses, and one of study B.
    const cohortQuery = {
      title: 'Smokers before the sepsis plan',
      source: { kind: 'csv' },
      groupBy: [{ kind: 'category', feature: 'smoker', values: [0, 1], labels: ['no', 'yes'] }],
      summaries: { features: ['bmi'], statistics: ['mean'], pooled: 'secure' },
    };
    const qid = (
      (await (await operator(c, 'POST', routes.cohortQueries, { studyId: studyA, query: cohortQuery })).json()) as {
        id: string;
      }
    ).id;
    const answer = (no: number | null, yes: number | null, k: number) => ({
      kind: 'table',
      table: {
        k,
        epsilon: null,
        cells: [
          { levels: ['no'], count: no },
          { levels: ['yes'], count: yes },
        ],
        total: 40,
        suppressedCells: [no, yes].filter((x) => x === null).length,
      },
    });
    for (const [i, a] of [answer(25, 15, 10), answer(null, null, 20)].entries()) {
      const res = await sites[i]!.request('PUT', routes.cohortAnswers(qid), a);
      if (res.status !== 201) throw new Error(`cohort answer ${res.status}`);
    }
    await operator(c, 'POST', routes.cohortQueries, {
      studyId: secret.study,
      query: { ...cohortQuery, title: 'Secret trial smokers' },
    });
    researcher = (
      (await (
        await operator(c, 'POST', routes.tokens, { name: 'Dr Ada', role: 'researcher', studies: [studyA] })
      ).json()) as ApiTokenCreated
    ).token;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => methods.add(r.method()));
    page.on('response', (r) => {
      if (r.status() >= 400 && r.status() !== 401) problems.push(`${r.status()} ${r.url()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await c?.close();
  });

  test('the page is served public, under a strict content security policy, and holds no data', async () => {
    const res = await fetch(`${c.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const html = await res.text();
    expect(html).not.toContain(fid);
    expect((await fetch(`${c.url}/dashboard/../../package.json`)).status).toBe(404);
    expect((await fetch(`${c.url}/dashboard/secret.txt`)).status).toBe(404);
  });

  test("a refused token shows the coordinator's error code and nothing else", async () => {
    await page.goto(`${c.url}/dashboard`);
    await page.fill('#token', 'tfr_not-a-real-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('#sign-in-error:not([hidden])');
    expect(await page.textContent('#sign-in-error')).toContain('INVALID_TOKEN');
    expect(await page.isHidden('#app')).toBe(true);
  });

  test('a researcher sees federations, the per-site chart, lineage, population and sites, read-only', async () => {
    await page.fill('#token', researcher);
    await page.click('button[type=submit]');
    await page.waitForSelector('#versions tbody tr');
    expect(await page.textContent('#federations')).toContain('Sepsis risk 2026');
    expect(await page.textContent('#federation-title')).toContain(fid);
    expect(await page.textContent('#federation-summary')).toMatch(
      /^fedavg · logistic-regression on 3 features · 2 rounds, at least 2 sites per round · normalisation per-site · secure aggregation off · DP off$/,
    );

    const versions = await page.$$eval('#versions tbody tr', (rows) =>
      rows.map((r) => Array.from((r as unknown as Element).querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
    expect(versions.map((r) => [r[0], r[1], r[2]])).toEqual([
      ['2', `${fid}.v2`, `${fid}.v1`],
      ['1', `${fid}.v1`, `${fid}.v0`],
      ['0', `${fid}.v0`, '–'],
    ]);
    expect(versions[0]![3]).toBe('Alpha Hospital (10), Beta Clinic (20)');

    const chart = page.locator('#chart-canvas');
    expect(await chart.getAttribute('data-sites')).toBe('2');
    expect(await chart.getAttribute('data-points')).toBe('3');
    expect(await page.locator('#chart-canvas canvas').count()).toBe(1);
    const legend = await page.textContent('#chart-canvas .u-legend');
    expect(legend).toContain('Alpha Hospital');
    expect(legend).toContain('Beta Clinic');
    expect(await page.$$eval('#metric option', (o) => o.map((x) => (x as unknown as Element).value))).toEqual(
      [XSS, 'accuracy', 'auc'].sort(),
    );
    expect(await page.locator('img').count()).toBe(0); // the hostile metric name is text, never markup
    expect(await page.evaluate(() => (globalThis as unknown as Dom).__xss)).toBeUndefined();
    await page.selectOption('#metric', 'accuracy');
    await page.waitForFunction(() =>
      (globalThis as unknown as Dom).document.querySelector('#chart-canvas .u-legend')?.textContent?.includes('Alpha'),
    );

    // Calibration of the newest version: Alpha's ECE and its reliability curve (2 released bins drawn), Beta none.
    expect(await page.textContent('#calibration-title')).toBe(`Calibration of ${fid}.v2 on each site's held-out data`);
    expect(await page.$$eval('#calibration figcaption', (f) => f.map((x) => x.textContent))).toEqual([
      'Alpha Hospital · ECE 0.061 · n 50',
    ]);
    expect(await page.locator('#calibration svg.reliability').getAttribute('data-points')).toBe('2');
    expect(await page.locator('#calibration svg.reliability circle').count()).toBe(2);

    // The cross-site matrix: the global and each local model (rows) on each site's test data (columns).
    expect(await page.textContent('#cross-site-summary')).toMatch(
      /^AUC of each model \(rows\) on each site's test data \(columns\), signed by the coordinator on /,
    );
    const matrix = await page.$$eval('#cross-site tbody tr', (rows) =>
      rows.map((r) => Array.from((r as unknown as Element).querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
    expect(matrix).toEqual([
      [`global ${fid}.v2`, '0.810', 'withheld'],
      ['local Alpha Hospital', '0.770', 'withheld'],
      ['local Beta Clinic', '0.640', 'withheld'],
      ['n (test rows)', '50', 'withheld'],
    ]);
    expect(
      await page.$$eval('#cross-site thead th', (h) => h.map((x) => (x as unknown as Element).textContent)),
    ).toEqual(['model', 'Alpha Hospital', 'Beta Clinic']);

    const decisions = await page.$$eval('#decisions tbody tr', (rows) =>
      rows.map((r) => Array.from((r as unknown as Element).querySelectorAll('td'), (td) => td.textContent ?? '')),
    );
    expect(decisions.map((r) => [r[0], r[1]])).toEqual([
      ['Alpha Hospital', 'approved'],
      ['Beta Clinic', 'pending'],
    ]);
    expect(await page.textContent('#decisions-summary')).toBe(
      '1 of 2 sites approved the current plan · sites that rejected or revoked it are not selected',
    );
    expect(await page.textContent('#sites')).toContain('Beta Clinic');
    // The privacy ledger over study A only: its federation has no DP, so each site's total is unbounded.
    expect(await ledgerRows()).toEqual([
      ['Alpha Hospital', 'Sepsis risk 2026', 'none', '0', '2', '∞ (no DP)', '–', '∞ (no DP)'],
      ['Alpha Hospital', 'total over 1 federation(s)', 'basic composition', '', '', '∞ (no DP)', '0', '∞ (no DP)'],
      ['Beta Clinic', 'Sepsis risk 2026', 'none', '0', '2', '∞ (no DP)', '–', '∞ (no DP)'],
      ['Beta Clinic', 'total over 1 federation(s)', 'basic composition', '', '', '∞ (no DP)', '0', '∞ (no DP)'],
    ]);
    expect(await page.textContent('#privacy-ledger-scope')).toContain("Over your studies' federations only");
    expect(await page.textContent('#federations')).toMatch(/Sepsis study/); // the study column
    expect(await page.textContent('#population')).toContain(
      'No population reports yet: only sites that run with --twins report population counts',
    );
    // Cohort statistics: each site's released counts (<k where it suppressed) and the combined lower bound.
    const cohort = await page.$$eval('#cohort table', (tables) =>
      tables.map((t) =>
        Array.from((t as unknown as Element).querySelectorAll('tbody tr'), (r) =>
          Array.from(r.querySelectorAll('td'), (td) => td.textContent ?? ''),
        ),
      ),
    );
    expect(cohort[0]!.map((r) => r.slice(0, 5))).toEqual([
      ['Smokers before the sepsis plan', 'Sepsis study', 'csv', '2', '0'],
    ]);
    expect(cohort[2]).toEqual([
      ['no', '25', '<k', '≥25', '–'],
      ['yes', '15', '<k', '≥15', '–'],
    ]);
    expect(await page.textContent('#cohort')).toContain('1 more site(s) outside your studies have not answered');
    // Pooled securely: nothing pooled until every site answered (the third has not).
    expect(await page.textContent('#cohort')).toContain('Secure pool: waiting for every site to answer.');
    expect([...methods]).toEqual(['GET']);
    expect(problems).toEqual([]);
  });

  test('a researcher of study A sees nothing of study B anywhere on the page', async () => {
    const text = (await page.textContent('body')) ?? '';
    for (const hidden of ['Secret trial', secret.study, secret.fid, 'Gamma Trial Site', secret.siteId])
      expect(text).not.toContain(hidden);
    expect(await page.$$eval('#study option', (o) => o.map((x) => (x as unknown as Element).textContent))).toEqual([
      'Sepsis study',
    ]);
    expect(await page.textContent('#studies')).toContain('Sepsis study');
    expect(problems).toEqual([]); // nor did it ask for anything of B (that would have been a 404)
  });

  test('a recalibrated version: each site’s ECE before → after, both reliability curves and the fitted parameters', async () => {
    const base = `${fid}.v2`;
    const baseVersion = (await c.store.getVersion(base))!;
    const built = buildVersion(
      {
        federationId: fid,
        parentVersionId: base,
        round: 2,
        strategy: 'fedavg',
        weights: deserializeWeights((await c.store.getVersionWeights(base))!, {
          expectedLayout: baseVersion.meta.layout as WeightSet['layout'],
        }),
        contributors: [],
        metrics: {},
        recalibration: { method: 'platt', a: 0.5, b: -0.2, baseVersionId: base, rows: 100 },
        createdAt: new Date().toISOString(),
      },
      generateIdentity(),
    );
    await c.store.publishVersion({
      version: built.version,
      weights: built.weights,
      federationPatch: { latestVersionId: built.version.id },
    });
    await c.store.putEvaluation({
      versionId: built.version.id,
      siteId: (await c.store.listEvaluations(base)).find((e) => e.calibration)!.siteId,
      n: 50,
      metrics: { auc: 0.8 },
      calibration: CALIBRATION_AFTER,
      createdAt: new Date().toISOString(),
    });
    await page.reload();
    await page.waitForSelector('#recalibration');
    expect(await page.textContent('#calibration-title')).toBe(
      `Calibration before and after recalibration (${base}.recalibrated) on each site's held-out data`,
    );
    expect(await page.textContent('#recalibration')).toContain(
      'Platt scaling fitted through the secure sum on 100 held-out rows: a = 0.500, b = -0.200.',
    );
    expect(await page.$$eval('#calibration figcaption', (f) => f.map((x) => x.textContent))).toEqual([
      'Alpha Hospital · ECE 0.061 → 0.021 · n 50',
    ]);
    const figure = page.locator('#calibration figure.calibration-site');
    expect(await figure.getAttribute('data-ece-before')).toBe('0.061');
    expect(await figure.getAttribute('data-ece')).toBe('0.021');
    const curve = page.locator('#calibration svg.reliability');
    expect(await curve.getAttribute('data-points')).toBe('3');
    expect(await curve.getAttribute('data-before-points')).toBe('2');
    expect(await page.locator('#calibration svg.reliability polyline.before').count()).toBe(1);
    expect(await page.locator('#calibration svg.reliability circle').count()).toBe(5);
    expect(problems).toEqual([]);
  });

  test('the token lives in the tab: a reload stays signed in, sign-out forgets it', async () => {
    await page.reload();
    await page.waitForSelector('#versions tbody tr');
    await page.click('#sign-out');
    expect(await page.isVisible('#sign-in')).toBe(true);
    expect(
      await page.evaluate(() => (globalThis as unknown as Dom).sessionStorage.getItem('twinfed.token')),
    ).toBeNull();
    await page.reload();
    expect(await page.isVisible('#sign-in')).toBe(true);
  });

  test('an operator sees every study, each federation with its study, and the study filter narrows the list', async () => {
    await page.fill('#token', c.operatorToken);
    await page.click('button[type=submit]');
    await page.waitForSelector('#versions tbody tr');
    const rows = async () =>
      page.$$eval('#federations tbody tr', (trs) =>
        trs.map((r) => Array.from((r as unknown as Element).querySelectorAll('td'), (td) => td.textContent ?? '')),
      );
    expect((await rows()).map((r) => [r[0], r[2]])).toEqual([
      ['Sepsis risk 2026', 'Sepsis study'],
      ['Secret trial B', 'Secret trial study'],
    ]);
    // The operator's ledger: B's ε (one DP release) charged to the three sites, Gamma's total is B's ε alone.
    const eps = SECRET_EPSILON.toFixed(2);
    const ledger = await ledgerRows();
    expect(ledger.filter((r) => r[0] === 'Gamma Trial Site')).toEqual([
      ['Gamma Trial Site', 'Secret trial B', 'gaussian', '1', '1', eps, '1.0e-5', expect.any(String)],
      [
        'Gamma Trial Site',
        'total over 1 federation(s)',
        'basic composition',
        '',
        '',
        eps,
        '1.0e-5',
        expect.any(String),
      ],
    ]);
    expect(ledger.filter((r) => r[0] === 'Alpha Hospital').map((r) => [r[1], r[5]])).toEqual([
      ['Sepsis risk 2026', '∞ (no DP)'],
      ['Secret trial B', eps],
      ['total over 2 federation(s)', '∞ (no DP)'],
    ]);
    expect(await page.textContent('#privacy-ledger-scope')).toBe('');
    expect(await page.$$eval('#study option', (o) => o.map((x) => (x as unknown as Element).textContent))).toEqual([
      'all 3 studies',
      'default',
      'Sepsis study',
      'Secret trial study',
    ]);
    await page.selectOption('#study', secret.study);
    await page.waitForFunction(
      (name) =>
        (globalThis as unknown as Dom).document.querySelector('#federation-title')?.textContent?.startsWith(name),
      'Secret trial B',
    );
    // The title and the list are two renders: wait until the list holds the study's federations only (or time out).
    await page.waitForFunction((name) => {
      const trs = (globalThis as unknown as Dom).document.querySelectorAll('#federations tbody tr');
      return trs.length === 1 && trs[0]?.querySelector('td')?.textContent === name;
    }, 'Secret trial B');
    expect((await rows()).map((r) => r[0])).toEqual(['Secret trial B']);
    await page.click('#sign-out');
  });
});
