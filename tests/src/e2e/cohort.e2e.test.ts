/**
 * Federated cohort statistics across processes: a coordinator, a researcher's `twinfed stats query --wait`, and two
 * hospitals answering with `twinfed-site stats answer` — one by hand with the default k of 10 and exact counts, one by
 * policy (`--all-pending`, k 20, Laplace ε 1). The same 15 smokers are shown by the first and suppressed by the second.
 */
import path from 'node:path';
import type { CohortResult } from '@twinfed/shared';
import { siteCli } from '../support/paths';
import { jsonLine, runNode } from '../support/processes';
import {
  SMOKER_QUERY,
  askAndWait,
  suiteCoordinator,
  writeClinic,
  writeCohortPolicy,
} from './__tests__/cohort-fixtures';

describe('cohort statistics across processes', () => {
  const suite = suiteCoordinator('twinfed-cohort-e2e-');

  const site = (name: string, args: string[]) => runNode({ name, script: siteCli(), args, timeoutMs: 60_000 });

  test('a cell of 15 is shown by the site with k 10 and suppressed by the site with k 20; noise where the policy says', async () => {
    const sites = { low: path.join(suite.work, 'low-k'), high: path.join(suite.work, 'high-k') };
    for (const [name, dir] of Object.entries(sites)) {
      const inv = await suite.admin.createInvitation({
        siteName: name === 'low' ? 'Low K Hospital' : 'High K Hospital',
      });
      await site(`enroll ${name}`, ['enroll', '--coordinator', suite.url, '--token', inv.token, '--data-dir', dir]);
    }
    writeCohortPolicy(sites.high, { allowed: true, autoAnswer: true, k: 20, epsilon: 1 });
    const low = writeClinic(path.join(suite.work, 'low-data'));
    const high = writeClinic(path.join(suite.work, 'high-data'));
    const study = (await suite.admin.createStudy({ name: 'Diabetes 2026' })).id;
    // The researcher asks and waits for every enrolled site.
    const { asking, qid } = await askAndWait(suite, {
      name: 'twinfed stats query',
      study,
      query: SMOKER_QUERY,
      timeoutSeconds: 120,
    });
    // One hospital answers by hand, the other by its policy (a cron job).
    await site('low answers', [
      'stats',
      'answer',
      qid,
      '--data',
      low.csv,
      '--mapping',
      low.mapping,
      '--by',
      'Dr Low',
      '--data-dir',
      sites.low,
    ]);
    const auto = await site('high answers', [
      '--json',
      'stats',
      'answer',
      '--all-pending',
      '--data',
      high.csv,
      '--mapping',
      high.mapping,
      '--data-dir',
      sites.high,
    ]);
    expect(auto.map(jsonLine).find((l) => l?.queryId === qid)).toMatchObject({ type: 'answer', status: 'accepted' });

    expect(await asking.exited).toBe(0);
    const result = asking.lines.map(jsonLine).find((l) => l && 'combined' in l) as unknown as CohortResult;
    const byName = new Map(result.sites.map((s) => [s.name, s]));
    const lowTable = byName.get('Low K Hospital')!.table!;
    const highTable = byName.get('High K Hospital')!.table!;
    expect(lowTable).toMatchObject({ k: 10, epsilon: null, total: 40, suppressedCells: 0 });
    expect(lowTable.cells.map((c) => [c.levels[0], c.count])).toEqual([
      ['no', 25],
      ['yes', 15],
    ]);
    // k 20: the 15 smokers are suppressed (and the other cell, which the total would reveal); counts carry ε 1 noise.
    expect(highTable).toMatchObject({ k: 20, epsilon: 1, suppressedCells: 2 });
    expect(highTable.cells.map((c) => c.count)).toEqual([null, null]);
    expect(highTable.cells.map((c) => c.summaries)).toEqual([{ bmi: null }, { bmi: null }]);
    expect(highTable.total).toBeGreaterThanOrEqual(20);
    // Combined: only released parts are added; where a site suppressed its part, the count is a lower bound.
    expect(result.combined.cells[1]!.count).toEqual({ value: 15, atLeast: true, sites: 1, suppressedSites: 1 });
    expect(result.combined.cells[0]!.pooled!.bmi).toMatchObject({ n: 25, sites: 1, withheldSites: 1 });
    expect(result.combined.total).toEqual({
      value: 40 + highTable.total!,
      atLeast: false,
      sites: 2,
      suppressedSites: 0,
    });

    // Each site's audit chain records what it sent, with the digest the coordinator stored.
    const audit = await suite.admin.auditPage(0, 1000);
    for (const [name, dir] of Object.entries(sites)) {
      const lines = await site(`audit ${name}`, ['--json', 'audit', 'list', '--data-dir', dir]);
      const entries = (
        jsonLine(lines.at(-1)!) as {
          entries: Array<{ action: string; subject: string; detail: { digest: string; epsilon: number | null } }>;
        }
      ).entries;
      const mine = entries.filter((e) => e.subject === qid);
      expect(mine.map((e) => e.action)).toEqual(['cohort.answered']);
      const stored = audit.entries.find(
        (e) => e.action === 'cohort.answer' && e.subject === qid && e.detail.digest === mine[0]!.detail.digest,
      );
      expect(stored).toBeDefined();
      expect(mine[0]!.detail.epsilon).toBe(name === 'high' ? 1 : null);
    }
  }, 180_000);
});
