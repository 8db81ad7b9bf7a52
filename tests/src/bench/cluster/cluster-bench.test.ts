import { comparisonRows, ratio } from './cluster-report';
import type { ClusterRunResult } from './cluster-run';
import { countingFetch, emptyHttpCounts } from './http-counts';
import { parsePsqlNumber } from './pg-stats';

function result(replicas: number, over: Partial<ClusterRunResult> = {}): ClusterRunResult {
  return {
    replicas,
    sites: 10,
    rounds: 2,
    roundSeconds: [1, 2],
    p50: 1,
    p95: 2,
    roundsPublished: 2,
    everyRoundHadEverySite: true,
    enrollSeconds: 1,
    federationSeconds: 3,
    uploads: 20,
    evaluations: 20,
    errors: [],
    http: { ...emptyHttpCounts(), answered: 100 },
    overloadedUploads: 0,
    replicaCpuSeconds: [2],
    coordinatorCpuSeconds: 2,
    cpuMsPerSiteRound: 100,
    pgPeakConnections: 10,
    pgPoolSizePerReplica: 10,
    pgCommits: 400,
    pgCommitsPerRound: 200,
    pgBackgroundCommitsPerSecond: 1,
    proxyForwarded: [50],
    ...over,
  };
}

describe('cluster benchmark helpers', () => {
  test('ratio: b / a, NaN for a zero or non-finite base', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(3, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
  });

  test('comparison rows: each configuration, then each ratio to the first; 0 vs 0 is "="', () => {
    const rows = comparisonRows([
      result(1),
      result(3, { p50: 1.5, cpuMsPerSiteRound: 130, pgPeakConnections: 30, replicaCpuSeconds: [1, 1, 0.6] }),
    ]);
    const byName = new Map(rows.map((r) => [r[0], r.slice(1)]));
    expect(byName.get('round p50 s')).toEqual([1, 1.5, 1.5]);
    expect(byName.get('coordinator CPU ms per site-round')).toEqual([100, 130, 1.3]);
    expect(byName.get('PostgreSQL sessions, peak')).toEqual([10, 30, 3]);
    expect(byName.get('errors')).toEqual([0, 0, '=']);
    expect(comparisonRows([])).toEqual([]);
  });

  test('psql -At output: the last non-empty line as a number; anything else is an error', () => {
    expect(parsePsqlNumber('\n107362\n')).toBe(107362);
    expect(parsePsqlNumber('12\n')).toBe(12);
    expect(() => parsePsqlNumber('')).toThrow(/not a number/);
    expect(() => parsePsqlNumber('ERROR: nope\n')).toThrow(/not a number/);
  });

  test('counting fetch: 503 retried, other 5xx, failures (with why) and cancellations apart', async () => {
    const counts = emptyHttpCounts();
    const statuses = [200, 503, 500, 404];
    const f = countingFetch(counts, async () => new Response(null, { status: statuses.shift()! }));
    for (let i = 0; i < 4; i++) await f('http://x/', {});
    const failing = countingFetch(counts, async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('reset'), { code: 'ECONNRESET' }) });
    });
    await expect(failing('http://x/', {})).rejects.toThrow('fetch failed');
    const cancelledByCaller = new AbortController();
    cancelledByCaller.abort();
    await expect(failing('http://x/', { signal: cancelledByCaller.signal })).rejects.toThrow('fetch failed');
    await expect(
      failing('http://x/', { signal: AbortSignal.abort(new DOMException('timed out', 'TimeoutError')) }),
    ).rejects.toThrow('fetch failed');
    expect(counts).toEqual({
      answered: 4,
      retried503: 1,
      other5xx: 1,
      failed: 2,
      failedBy: { ECONNRESET: 1, TimeoutError: 1 },
      cancelled: 1,
    });
  });
});
