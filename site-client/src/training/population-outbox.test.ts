import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { seededUniform } from '../population/noise';
import type { ExactPopulationTable } from '../population/report';
import { POPULATION_OUTBOX_FILE, PopulationOutbox } from './population-outbox';

const dirOf = () => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-outbox-'));
const table = (versionId: string, exact: number[][], epsilon: number | null = 1): ExactPopulationTable => ({
  versionId,
  at: Date.UTC(2026, 0, 1),
  k: 5,
  epsilon: epsilon ?? undefined,
  tiers: ['low', 'high'],
  bands: ['0-64', '65+', 'unknown'],
  exact,
});
const counts = [
  [40, 30, 12],
  [25, 18, 9],
];
const values = (r: { cells: { count: number | null }[] }) => r.cells.map((c) => c.count);

describe('PopulationOutbox: the site’s ε ledger for population reports', () => {
  test('re-sends the released values of unchanged counts: a second version of the same table spends nothing', () => {
    const outbox = PopulationOutbox.open(dirOf(), { epsilonBudget: 10 });
    const first = outbox.stage({ federationId: 'f', table: table('v1', counts), rng: seededUniform(1) });
    const second = outbox.stage({ federationId: 'f', table: table('v2', counts), rng: seededUniform(2) });
    expect(second.versionId).toBe('v2');
    expect(values(second)).toEqual(values(first));
    expect(outbox.spentEpsilon).toBe(1);
    const changed = outbox.stage({
      federationId: 'f',
      table: table('v3', [
        [41, 30, 12],
        [24, 18, 9],
      ]),
      rng: seededUniform(3),
    });
    expect(values(changed)).not.toEqual(values(first));
    expect(outbox.spentEpsilon).toBe(2);
  });

  test('refuses a fresh draw past the budget, stages nothing, and still re-sends a table it already released', () => {
    const dir = dirOf();
    const outbox = PopulationOutbox.open(dir, { epsilonBudget: 2.5 });
    outbox.stage({ federationId: 'f', table: table('v1', counts), rng: seededUniform(1) });
    outbox.stage({
      federationId: 'g',
      table: table('w1', [
        [50, 30, 12],
        [25, 18, 9],
      ]),
      rng: seededUniform(1),
    });
    expect(outbox.spentEpsilon).toBe(2);
    expect(() =>
      outbox.stage({
        federationId: 'f',
        table: table('v2', [
          [60, 30, 12],
          [25, 18, 9],
        ]),
        rng: seededUniform(2),
      }),
    ).toThrow(expect.objectContaining({ code: 'POPULATION_BUDGET_EXHAUSTED' }));
    expect(outbox.get('v2')).toBeUndefined();
    expect(outbox.spentEpsilon).toBe(2);
    expect(values(outbox.stage({ federationId: 'f', table: table('v3', counts), rng: seededUniform(3) }))).toEqual(
      values(outbox.get('v1')!.report),
    );
    const exact = outbox.stage({
      federationId: 'f',
      table: table(
        'v4',
        [
          [70, 30, 12],
          [25, 18, 9],
        ],
        null,
      ),
      rng: seededUniform(4),
    });
    expect(exact.epsilon).toBeNull(); // exact counts (k-anonymity only) spend no ε
    expect(PopulationOutbox.open(dir, { epsilonBudget: 2.5 }).spentEpsilon).toBe(2);
  });

  test('keeps what was spent across restarts even after old reports are dropped from the file', () => {
    const dir = dirOf();
    const outbox = PopulationOutbox.open(dir, { epsilonBudget: 1000 });
    for (let v = 0; v < 60; v++) {
      outbox.stage({
        federationId: 'f',
        table: table(
          `v${v}`,
          [
            [40 + v, 30, 12],
            [25, 18, 9],
          ],
          0.5,
        ),
        rng: seededUniform(v),
      });
      outbox.markSent(`v${v}`);
    }
    const reopened = PopulationOutbox.open(dir, { epsilonBudget: 1000 });
    expect(reopened.spentEpsilon).toBe(30);
    expect(reopened.get('v0')).toBeUndefined();
    expect(fs.statSync(path.join(dir, POPULATION_OUTBOX_FILE)).mode & 0o777).toBe(0o600);
  });

  test('reads an outbox written before the ledger, counting the ε of the reports it holds', () => {
    const dir = dirOf();
    const old = PopulationOutbox.open(dirOf(), { epsilonBudget: 10 }).stage({
      federationId: 'f',
      table: table('v1', counts, 0.75),
      rng: seededUniform(1),
    });
    fs.writeFileSync(
      path.join(dir, POPULATION_OUTBOX_FILE),
      JSON.stringify({ version: 1, entries: [{ federationId: 'f', versionId: 'v1', report: old, sentAt: null }] }),
    );
    expect(PopulationOutbox.open(dir, { epsilonBudget: 10 }).spentEpsilon).toBe(0.75);
  });
});
