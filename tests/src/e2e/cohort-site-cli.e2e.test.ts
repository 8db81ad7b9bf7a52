/**
 * `twinfed-site stats` against a real coordinator, in one process: list with the policy's verdict, show, a dry run
 * that sends nothing, answers under each site's own k floor and noise, refusals by policy and for missing data, and
 * the site audit chain recording what was sent with the digest the coordinator stored.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { routes, type CohortResult } from '@twinfed/shared';
import { runCli } from '@twinfed/site-client';
import { json, operator, startTestCoordinator } from '@twinfed/coordinator/__tests__/harness';
import { SMOKER_QUERY, writeClinic, writeCohortPolicy } from './__tests__/cohort-fixtures';
import { cliIo } from '../support/cli-io';

describe('twinfed-site stats against a real coordinator', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let work: string;
  let clinic: { csv: string; mapping: string };
  const dirs: Record<string, string> = {};
  let study: string;
  const site = async (args: string[]) => {
    const r = cliIo();
    const code = await runCli(['node', 'twinfed-site', ...args], r.deps);
    return { code, out: r.out(), err: r.err() };
  };
  const data = () => ['--data', clinic.csv, '--mapping', clinic.mapping];
  /** The site's own audit chain, through `twinfed-site audit list`. */
  const auditOf = async (dir: string) =>
    (
      JSON.parse((await site(['--json', 'audit', 'list', '--limit', '1000', '--data-dir', dir])).out) as {
        entries: Array<{ action: string; subject: string; detail: Record<string, unknown> }>;
      }
    ).entries;
  const post = async (query: object = SMOKER_QUERY) =>
    (await json<{ id: string }>(operator(c, 'POST', routes.cohortQueries, { studyId: study, query }))).id;
  const result = (qid: string) => json<CohortResult>(operator(c, 'GET', routes.cohortQuery(qid)));

  beforeAll(async () => {
    c = await startTestCoordinator();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-cohort-cli-'));
    clinic = writeClinic(path.join(work, 'data'));
    study = (await json<{ id: string }>(operator(c, 'POST', routes.studies, { name: 'Diabetes 2026' }))).id;
    for (const name of ['Manual', 'Strict', 'Closed']) {
      const inv = await json<{ token: string }>(operator(c, 'POST', routes.invitations, { siteName: name }));
      dirs[name] = path.join(work, name);
      expect(
        (await site(['enroll', '--coordinator', c.url, '--token', inv.token, '--data-dir', dirs[name]])).code,
      ).toBe(0);
    }
    // Strict answers by itself at k 20 with noise; Closed answers nothing.
    writeCohortPolicy(dirs.Strict!, { allowed: true, autoAnswer: true, k: 20, epsilon: 1 });
    writeCohortPolicy(dirs.Closed!, { allowed: false });
  });
  afterAll(async () => {
    await c?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('list and show: each site sees the query with its own verdict and floor', async () => {
    const qid = await post();
    const manual = await site(['stats', 'list', '--data-dir', dirs.Manual!]);
    expect(manual.code).toBe(0);
    expect(manual.out).toContain(
      `${qid}  study ${study}  csv  "Smokers and BMI before the diabetes plan"  verdict: no-policy`,
    );
    const strict = await site(['--json', 'stats', 'list', '--data-dir', dirs.Strict!]);
    expect(JSON.parse(strict.out)).toMatchObject({ queries: [{ id: qid, verdict: 'auto-answer' }] });
    const shown = await site(['stats', 'show', qid, '--data-dir', dirs.Strict!]);
    expect(shown.out).toContain('grouped by: smoker = 0 (no), 1 (yes) → 2 cell(s)');
    expect(shown.out).toContain('this site:  k 20, Laplace noise ε 1 on counts');
    const closed = await site(['stats', 'show', qid, '--data-dir', dirs.Closed!]);
    expect(closed.out).toContain('verdict:    not-allowed (the policy does not allow cohort queries)');
  });

  test('a dry run sends nothing; an answer shows what leaves, is stored once, and is in the site audit chain', async () => {
    const qid = await post();
    const dry = await site(['stats', 'answer', qid, ...data(), '--dry-run', '--data-dir', dirs.Manual!]);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('Nothing sent (--dry-run)');
    expect(dry.out).toContain('yes  count 15  bmi n 15');
    expect((await result(qid)).sites.find((s) => s.name === 'Manual')!.status).toBe('pending');

    const sent = await site(['stats', 'answer', qid, ...data(), '--by', 'Dr Rossi', '--data-dir', dirs.Manual!]);
    expect(sent.code).toBe(0);
    expect(sent.out).toContain('k 10, exact counts, 0 of 2 cell(s) suppressed');
    expect(sent.out).toContain('Sent: stored by the coordinator');
    const r = await result(qid);
    const manual = r.sites.find((s) => s.name === 'Manual')!;
    expect(manual.table!.cells.map((cell) => cell.count)).toEqual([25, 15]);
    const stored = (await c.store.listCohortAnswers(qid)).find((a) => a.siteId === manual.siteId)!;
    const entries = (await auditOf(dirs.Manual!)).filter((e) => e.subject === qid);
    expect(entries.map((e) => e.action)).toEqual(['cohort.answered']);
    expect(entries[0]!.detail).toMatchObject({ digest: stored.digest, k: 10, epsilon: null, by: 'Dr Rossi' });

    const again = await site(['stats', 'answer', qid, ...data(), '--data-dir', dirs.Manual!]);
    expect(again.out).toContain('the coordinator already had it');
    expect((await auditOf(dirs.Manual!)).filter((e) => e.subject === qid)).toHaveLength(1);
  });

  test('--all-pending: Strict answers at its own k 20 with noise; Closed refuses by policy', async () => {
    const qid = await post();
    const strict = await site(['stats', 'answer', '--all-pending', ...data(), '--data-dir', dirs.Strict!]);
    expect(strict.code).toBe(0);
    expect(strict.out).toMatch(new RegExp(`${qid}: answered \\(k 20, ε 1, 2 of 2 cell\\(s\\) suppressed`));
    const closed = await site(['stats', 'answer', '--all-pending', ...data(), '--data-dir', dirs.Closed!]);
    expect(closed.out).toContain(`${qid}: refused (NOT_ALLOWED_BY_POLICY: the policy does not allow cohort queries)`);
    const r = await result(qid);
    const strictRow = r.sites.find((s) => s.name === 'Strict')!;
    // The 15 smokers are below Strict's k of 20: suppressed, and with them the other cell the total would reveal.
    expect(strictRow.table).toMatchObject({ k: 20, epsilon: 1, suppressedCells: 2 });
    expect(strictRow.table!.cells.map((cell) => cell.count)).toEqual([null, null]);
    expect(r.sites.find((s) => s.name === 'Closed')).toMatchObject({
      status: 'refused',
      reason: 'NOT_ALLOWED_BY_POLICY',
    });
    expect((await auditOf(dirs.Closed!)).map((e) => e.action)).toContain('cohort.refused');
    // The manual site's query is left for a person.
    const manual = await site(['stats', 'answer', '--all-pending', ...data(), '--data-dir', dirs.Manual!]);
    expect(manual.out).toContain(`${qid}: left for a person (no-policy`);
  });

  test('a query the policy forbids is not answered by hand; missing data is NO_DATA; a refusal sends only its reason', async () => {
    const qid = await post({ ...SMOKER_QUERY, summaries: { features: ['glucose'] } });
    const closed = await site(['stats', 'answer', qid, ...data(), '--data-dir', dirs.Closed!]);
    expect(closed.code).toBe(1);
    expect(closed.err).toMatch(
      /does not allow query .*stats refuse .* --reason NOT_ALLOWED_BY_POLICY \[COHORT_QUERY_NOT_ALLOWED\]/,
    );
    const manual = await site(['stats', 'answer', qid, ...data(), '--data-dir', dirs.Manual!]);
    expect(manual.code).toBe(1);
    expect(manual.err).toMatch(/no feature "glucose".*\[COHORT_QUERY_UNANSWERABLE\]/);
    const strict = await site(['stats', 'answer', '--all-pending', ...data(), '--data-dir', dirs.Strict!]);
    expect(strict.out).toContain(`${qid}: refused (NO_DATA:`);
    const refused = await site(['stats', 'refuse', qid, '--reason', 'REJECTED_BY_SITE', '--data-dir', dirs.Manual!]);
    expect(refused.code).toBe(0);
    expect(refused.out).toContain('a refusal: REJECTED_BY_SITE');
    const r = await result(qid);
    expect(r.sites.map((s) => [s.name, s.status, s.reason])).toEqual(
      expect.arrayContaining([
        ['Manual', 'refused', 'REJECTED_BY_SITE'],
        ['Strict', 'refused', 'NO_DATA'],
      ]),
    );
    // A tabular query answered from the twin store: refused locally, nothing sent.
    const other = await post();
    const wrong = await site(['stats', 'answer', other, '--twins', '--data-dir', dirs.Manual!]);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/asks for tabular rows: answer it with --data .*\[COHORT_QUERY_UNANSWERABLE\]/);
    expect((await result(other)).sites.find((s) => s.name === 'Manual')!.status).toBe('pending');
  });
});
