/**
 * Secure pooling of cohort statistics across processes: a coordinator and three hospitals answering a query with
 * `summaries.pooled: "secure"` through `twinfed-site stats answer` (by hand, by policy), then sending their masked
 * n, Σx, Σx² with `stats pool` or `stats answer --all-pending`. The pooled mean and variance equal those of all the
 * hospitals' values together, and nothing the coordinator stored or returned holds one hospital's sums.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '@twinfed/coordinator';
import type { CohortPoolView, CohortResult } from '@twinfed/shared';
import { coordinatorCli, siteCli } from '../support/paths';
import { jsonLine, runNode } from '../support/processes';
import {
  SMOKER_QUERY,
  askAndWait,
  suiteCoordinator,
  writeClinic,
  writeCohortPolicy,
} from './__tests__/cohort-fixtures';

/** BMI values per smoker level (0: no, 1: yes) of a clinic CSV written by `writeClinic`. */
function bmiByCell(csv: string): [number[], number[]] {
  const cells: [number[], number[]] = [[], []];
  for (const line of fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1)) {
    const [, , bmi, smoker] = line.split(',');
    cells[Number(smoker)]!.push(Number(bmi));
  }
  return cells;
}

const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
const variance = (xs: number[]) => xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1);

/** Every number in a JSON value. */
function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value === null || typeof value !== 'object') return [];
  if (value instanceof Uint8Array) return [];
  return Object.values(value).flatMap(numbersIn);
}

describe('secure pooling of cohort statistics across processes', () => {
  const suite = suiteCoordinator('twinfed-cohort-pool-e2e-');

  const site = (name: string, args: string[]) => runNode({ name, script: siteCli(), args, timeoutMs: 60_000 });
  const lineOf = (lines: string[], type: string) => lines.map(jsonLine).find((l) => l?.type === type);

  test('three hospitals pool BMI securely: the pooled figures match clear pooling; no hospital’s sums reach the coordinator', async () => {
    const names = ['Aster', 'Birch', 'Cedar'] as const;
    const smokers = { Aster: 15, Birch: 12, Cedar: 20 };
    const dirs = Object.fromEntries(names.map((n) => [n, path.join(suite.work, n)])) as Record<
      (typeof names)[number],
      string
    >;
    const data = Object.fromEntries(
      names.map((n) => [n, writeClinic(path.join(suite.work, `${n}-data`), smokers[n])]),
    ) as Record<(typeof names)[number], { csv: string; mapping: string }>;
    for (const n of names) {
      const inv = await suite.admin.createInvitation({ siteName: `${n} Hospital` });
      await site(`enroll ${n}`, ['enroll', '--coordinator', suite.url, '--token', inv.token, '--data-dir', dirs[n]]);
    }
    writeCohortPolicy(dirs.Cedar, { allowed: true, autoAnswer: true });
    const study = (await suite.admin.createStudy({ name: 'Smoking 2026' })).id;
    const query = { ...SMOKER_QUERY, summaries: { ...SMOKER_QUERY.summaries, pooled: 'secure' } };
    // The researcher asks and waits: for every site's answer, then for the secure pool.
    const { asking, qid } = await askAndWait(suite, {
      name: 'twinfed stats query --wait',
      study,
      query: query,
      timeoutSeconds: 180,
    });
    const dataFlags = (n: (typeof names)[number]) => ['--data', data[n].csv, '--mapping', data[n].mapping];

    // Aster and Birch answer by hand: the pool waits for every site.
    for (const n of ['Aster', 'Birch'] as const) {
      const out = await site(`${n} answers`, [
        '--json',
        'stats',
        'answer',
        qid,
        ...dataFlags(n),
        '--data-dir',
        dirs[n],
      ]);
      expect(lineOf(out, 'answer')).toMatchObject({ status: 'accepted' });
      expect(lineOf(out, 'pool')).toMatchObject({ state: 'waiting' });
    }
    // Cedar answers by policy; its answer is the last, so the pool opens and Cedar sends its vector right away.
    const cedar = await site('Cedar answers', [
      '--json',
      'stats',
      'answer',
      '--all-pending',
      ...dataFlags('Cedar'),
      '--data-dir',
      dirs.Cedar,
    ]);
    expect(lineOf(cedar, 'answer')).toMatchObject({ queryId: qid, status: 'accepted' });
    expect(lineOf(cedar, 'pool')).toMatchObject({ queryId: qid, state: 'sent', contributed: 1, cohort: 3 });
    // What the sites sent as answers: counts only, no per-site summary.
    const answered = await suite.admin.cohortResult(qid);
    for (const s of answered.sites) expect(s.table!.cells.every((c) => c.summaries === undefined)).toBe(true);
    expect(answered.pool).toEqual({ state: 'open', cohort: 3, contributed: 1, code: null });

    const aster = await site('Aster pools', ['--json', 'stats', 'pool', qid, '--data-dir', dirs.Aster]);
    expect(lineOf(aster, 'pool')).toMatchObject({ state: 'sent', status: 'accepted', contributed: 2 });
    const birch = await site('Birch pools by cron', [
      '--json',
      'stats',
      'answer',
      '--all-pending',
      ...dataFlags('Birch'),
      '--data-dir',
      dirs.Birch,
    ]);
    expect(lineOf(birch, 'pool')).toMatchObject({ queryId: qid, state: 'sent', contributed: 3, complete: true });

    // `--wait` returned only once the pool was complete.
    expect(await asking.exited).toBe(0);
    const waited = asking.lines.map(jsonLine).find((l) => l && 'combined' in l) as unknown as CohortResult;
    expect(waited.pool).toMatchObject({ state: 'complete', contributed: 3 });
    // The pooled figures equal the mean and sample variance of the three hospitals' values together.
    const result = await suite.admin.cohortResult(qid);
    expect(waited.combined).toEqual(result.combined);
    expect(result.pool).toEqual({ state: 'complete', cohort: 3, contributed: 3, code: null });
    const perSite = names.map((n) => bmiByCell(data[n].csv));
    for (const cell of [0, 1]) {
      const all = perSite.flatMap((cells) => cells[cell]!);
      const pooled = result.combined.cells[cell]!.pooled!.bmi!;
      expect(pooled.n).toBe(all.length);
      expect(pooled.mean).toBeCloseTo(mean(all), 6);
      expect(pooled.variance!).toBeCloseTo(variance(all), 5);
      expect(pooled).toMatchObject({ sites: 3, withheldSites: null });
    }
    const shown = await runNode({
      name: 'twinfed stats show',
      script: coordinatorCli(),
      args: ['--url', suite.url, '--token', suite.token, 'stats', 'show', qid],
    });
    expect(shown.join('\n')).toContain('secure pool: complete (3 sites)');
    expect(shown.join('\n')).toContain('bmi pooled securely');

    // Each hospital's chain records its answer and its pool vector; the coordinator's records three contributions.
    for (const n of names) {
      const lines = await site(`audit ${n}`, ['--json', 'audit', 'list', '--data-dir', dirs[n]]);
      const entries = (jsonLine(lines.at(-1)!) as { entries: Array<{ action: string; subject: string }> }).entries;
      expect(entries.filter((e) => e.subject === qid).map((e) => e.action)).toEqual([
        'cohort.answered',
        'cohort.pooled',
      ]);
    }
    const audit = await suite.admin.auditPage(0, 1000);
    expect(audit.entries.filter((e) => e.subject === qid && e.action === 'cohort.pool.contribute').length).toBe(3);

    // Nothing the coordinator returned or stored holds one hospital's Σx, Σx² or mean.
    const poolView = (await (
      await fetch(`${suite.url}/v1/cohort-queries/${qid}/pool`, { headers: { authorization: `Bearer ${suite.token}` } })
    ).json()) as CohortPoolView;
    expect(poolView.state).toBe('complete');
    await suite.stop();
    const store = await SqliteStore.open({ path: path.join(suite.work, 'coordinator', 'coordinator.db') });
    const stored = {
      answers: await store.listCohortAnswers(qid),
      pool: await store.getCohortPool(qid),
      audit: await store.listAudit({ limit: 10_000 }),
    };
    await store.close();
    expect(stored.pool!.state).toBe('complete');
    const seen = numbersIn({ stored, result, poolView, answered });
    for (const cells of perSite)
      for (const xs of cells) {
        const secrets = [xs.reduce((a, x) => a + x, 0), xs.reduce((a, x) => a + x * x, 0), mean(xs)];
        for (const v of secrets) expect(seen.filter((x) => Math.abs(x - v) <= 1e-6 * Math.abs(v))).toEqual([]);
      }
  }, 240_000);
});
