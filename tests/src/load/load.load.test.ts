import path from 'node:path';
import { repoRoot } from '../support/paths';
import { runNode } from '../support/processes';
import type { LoadResult } from './load-run';

const SITES = 500;
const ROUNDS = 5;

/**
 * 500 simulated sites in one process per core (real enrollment, authenticated HTTP, socket.io, sealed uploads, journals,
 * evaluations) against a coordinator process: every round completes with every site, and no site sees an
 * error. Both run as plain node processes (jest's module sandbox would slow the 500 sites down several
 * times). The figures go to stdout; `npm run bench` records them, with 1,000 sites, in bench/results/load.*.
 */
describe(`load: ${SITES} sites × ${ROUNDS} rounds`, () => {
  test('zero errors, every round completes with every site, each site uploads once per round', async () => {
    const lines = await runNode({
      name: 'load',
      script: path.join(repoRoot(), 'tests', 'dist', 'load', 'cli.js'),
      args: ['--sites', String(SITES), '--rounds', String(ROUNDS)],
      timeoutMs: 290_000,
    });
    const r = JSON.parse(lines.filter((l) => l.startsWith('{')).pop()!) as LoadResult;
    process.stdout.write(
      `load: ${SITES} sites, rounds ${r.roundSeconds.map((s) => s.toFixed(2)).join(' ')} s (p50 ${r.p50.toFixed(2)}, p95 ${r.p95.toFixed(2)}), ` +
        `coordinator peak RSS ${r.coordinatorPeakRssMiB.toFixed(0)} MiB, ${r.overloaded} uploads told to retry (503), federation ${r.federationSeconds.toFixed(1)} s\n`,
    );
    expect(r.errors).toEqual([]);
    expect(r.roundsPublished).toBe(ROUNDS);
    expect(r.everyRoundHadEverySite).toBe(true);
    expect(r.uploads).toBe(SITES * ROUNDS);
    expect(r.evaluations).toBe(SITES * (ROUNDS + 1));
    expect(r.roundSeconds).toHaveLength(ROUNDS);
    expect(r.coordinatorPeakRssMiB).toBeGreaterThan(0);
  }, 300_000);
});
