import * as fs from 'node:fs';
import * as path from 'node:path';
import { testPlan } from '../__tests__/fake-coordinator';
import { cli, io, writeSitePolicy } from '../__tests__/cli';
import { csvRunSite } from '../__tests__/csv-run-site';

/** An enrolled site whose policy approves every plan, the fake coordinator behind a recording fetch, and a CSV of `n` rows. */
async function site(opts: {
  plan?: Parameters<typeof testPlan>[0];
  rows: (i: number) => string;
  n: number;
  label: unknown;
}) {
  const s = await csvRunSite({
    plan: testPlan(opts.plan),
    prefix: 'guard',
    n: opts.n,
    row: opts.rows,
    label: opts.label,
  });
  writeSitePolicy(s.dataDir, { autoApprove: true });
  return s;
}

describe('twinfed-site run: data guardrails', () => {
  test('a label mapping that yields one class exits 1 with DATA_SINGLE_CLASS before any request is sent', async () => {
    const { c, coord, args, work } = await site({
      n: 40,
      rows: (i) => `${40 + i},${200 + i},${150 - i},${i % 3 ? 2 : 4}`,
      label: { column: 'class', positive: ['malignant'] },
    });
    const r = io({ fetch: coord.fetch });
    expect(await cli([...args, '--rejects', path.join(work, 'rejects.csv')], r.deps)).toBe(1);
    expect(r.err()).toMatch(
      /^error: The label column "class" gives a single class: 0 positive and 40 negative rows\. Values found: "2" ×26, "4" ×14\. Positive values looked for: "malignant".*\[DATA_SINGLE_CLASS\]\n$/,
    );
    expect(coord.requests).toEqual([]);
    expect(c.updates).toHaveLength(0);
    expect(c.evaluations).toHaveLength(0);
    expect(fs.readFileSync(path.join(work, 'rejects.csv'), 'utf8')).toBe('line,column,reason\n');
  });

  test('fewer training rows than the plan’s minimum: exit 1 with DATA_TOO_FEW_ROWS after reading the plan only', async () => {
    const { c, coord, args } = await site({
      plan: { data: { features: ['age', 'chol', 'thalach'], minExamplesPerSite: 30 } },
      n: 40,
      rows: (i) => `${40 + i},${i === 7 || i === 12 ? '?' : 200 + i},${150 - i},${i % 2 ? 4 : 2}`,
      label: { column: 'class', positive: [4] },
    });
    const r = io({ fetch: coord.fetch });
    expect(await cli(args, r.deps)).toBe(1);
    // 38 usable rows, 19 per class, 6 of each held out (--test-fraction 0.34): 26 train, below 30
    expect(r.err()).toContain(
      'warning: 2 rows rejected (2× missing value in chol): lines 9, 14; all of them with --rejects <file>.',
    );
    expect(r.err()).toMatch(
      /error: This site has 26 training rows \(12 more held out for evaluation\); the plan's data\.minExamplesPerSite is 30\..*\[DATA_TOO_FEW_ROWS\]/,
    );
    expect(coord.requests.map((q) => `${q.method} ${new URL(q.url).pathname}`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^GET .*rounds\/current(\/download)?(\?.*)?$/)]),
    );
    // Besides rounds/current, only the approval (by the site's policy) went out: the decision and the plan hash.
    const sent = coord.requests.filter(
      (q) => !(q.method === 'GET' && /rounds\/current(\/download)?(\?.*)?$/.test(q.url)),
    );
    expect(
      sent.map((q) => `${q.method} ${new URL(q.url).pathname} ${Object.keys(JSON.parse(q.body) as object).join(',')}`),
    ).toEqual(['PUT /v1/federations/fed-1/decision decision,planSha256']);
    expect(c.updates).toHaveLength(0);
    expect(c.evaluations).toHaveLength(0);
  });
});
