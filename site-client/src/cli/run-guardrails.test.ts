import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator, testPlan } from '../__tests__/fake-coordinator';
import { cli, enrollArgs, io, writeSitePolicy } from '../__tests__/cli';
import { loadEnrollment } from '../identity/load';

/** An enrolled site directory, the fake coordinator behind a recording fetch, and a CSV of `n` rows. */
async function site(opts: {
  plan?: Parameters<typeof testPlan>[0];
  rows: (i: number) => string;
  n: number;
  label: unknown;
}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-guard-'));
  const dataDir = path.join(work, 'site');
  const c = new FakeCoordinator(testPlan(opts.plan));
  const coord = coordinatorFetch(c);
  expect(await cli(enrollArgs(dataDir), io({ fetch: coord.fetch }).deps)).toBe(0);
  c.trust(loadEnrollment(dataDir));
  writeSitePolicy(dataDir, { autoApprove: true });
  coord.requests.length = 0;
  const csv = path.join(work, 'data.csv');
  fs.writeFileSync(
    csv,
    ['age,chol,thalach,class', ...Array.from({ length: opts.n }, (_, i) => opts.rows(i))].join('\n'),
  );
  const mapping = path.join(work, 'mapping.json');
  fs.writeFileSync(
    mapping,
    JSON.stringify({ features: ['age', 'chol', 'thalach'].map((c) => ({ column: c, name: c })), label: opts.label }),
  );
  const args = [
    'run',
    '--federation',
    'fed-1',
    '--data',
    csv,
    '--mapping',
    mapping,
    '--data-dir',
    dataDir,
    '--no-push',
    '--poll-interval',
    '50',
  ];
  return { c, coord, args, work };
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
      expect.arrayContaining([expect.stringMatching(/^GET .*rounds\/current$/)]),
    );
    // Besides rounds/current, only the approval (by the site's policy) went out: the decision and the plan hash.
    const sent = coord.requests.filter((q) => !(q.method === 'GET' && /rounds\/current$/.test(q.url)));
    expect(
      sent.map((q) => `${q.method} ${new URL(q.url).pathname} ${Object.keys(JSON.parse(q.body) as object).join(',')}`),
    ).toEqual(['PUT /v1/federations/fed-1/decision decision,planSha256']);
    expect(c.updates).toHaveLength(0);
    expect(c.evaluations).toHaveLength(0);
  });
});
