import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/paths';
import { runNode } from '../support/processes';

interface CoxDemoSummary {
  scenario: string;
  rounds: number;
  versions: number;
  cox: {
    horizonDays: number;
    federatedCIndex: number;
    meanLocalOnlyCIndex: number;
    localOnlyCIndex: Record<string, number>;
    federatedCIndexBySite: Record<string, number>;
    sites: Array<{
      name: string;
      evaluatedOn: string[];
      testTwins: number;
      testEvents: number;
      federatedCIndex: number;
      localOnlyCIndex: number;
    }>;
    finalVersionSiteCIndex: Record<string, number>;
  };
  population: Array<{ rank: number; name: string; highRisk: number | null }>;
}

const HOSPITALS = ['Metro-Teaching', 'Valley-Rural', 'Lakeside-Community', 'Northside-Oncology'];
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `npm run demo -- --model cox` as a user runs it (shortened): the twin scenario over time, compared by C-index. */
describe('the twin demo over time (--model cox)', () => {
  test('a federated Cox model and each hospital’s local-only one, by C-index on the other hospitals’ held-out twins', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-demo-cox-'));
    try {
      const summaryFile = path.join(dir, 'summary.json');
      const lines = await runNode({
        name: 'demo --model cox',
        script: path.join(repoRoot(), 'tests', 'dist', 'demo', 'twin', 'main.js'),
        args: ['--model', 'cox', '--patients', '300', '--rounds', '5', '--summary', summaryFile],
        timeoutMs: 280_000,
      });
      const out = lines.join('\n');
      expect(out).toMatch(/federation fed-\S+ \(cox, fedavg, 5 rounds, secure aggregation/);
      expect(out).toMatch(/C-index of the risk of pneumonia within 30 days, on the OTHER hospitals’ held-out twins/);
      // The baseline version gives each twin a risk within the horizon, with tiers: the population view and a worklist.
      expect(out).toMatch(/Population view \(k = \d+/);
      const worklist = out.split('\n').filter((l) => /^ {2}\S{12}… {2}\d\.\d\d (low|medium|high)/.test(l));
      expect(worklist).toHaveLength(3);
      expect(out).toMatch(
        /Metro-Teaching: highest risk of pneumonia within 30 days \(decision support for clinicians, model fed-\S+\.baseline\)/,
      );
      const s = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as CoxDemoSummary;
      expect(s.population.map((r) => r.name).sort()).toEqual([...HOSPITALS].sort());
      expect(s.population.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
      expect(s.rounds).toBe(5);
      // The initial model, one version per round, and `<last>.baseline`: the same weights with the federated Breslow baseline.
      expect(s.versions).toBe(7);
      const c = s.cox;
      expect(c.horizonDays).toBe(30);
      expect(c.sites.map((r) => r.name)).toEqual(HOSPITALS);
      for (const r of c.sites) {
        // Held out: each model is scored on the three other hospitals' test twins, never on its own hospital's.
        expect(r.evaluatedOn).toEqual(HOSPITALS.filter((h) => h !== r.name));
        expect(r.testTwins).toBeGreaterThan(100);
        expect(r.testEvents).toBeGreaterThan(0);
        expect(r.testEvents).toBeLessThan(r.testTwins);
        for (const v of [r.federatedCIndex, r.localOnlyCIndex]) {
          expect(Number.isFinite(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
        expect(c.localOnlyCIndex[r.name]).toBe(r.localOnlyCIndex);
        expect(c.federatedCIndexBySite[r.name]).toBe(r.federatedCIndex);
      }
      expect(c.federatedCIndex).toBeCloseTo(mean(c.sites.map((r) => r.federatedCIndex)), 12);
      expect(c.meanLocalOnlyCIndex).toBeCloseTo(mean(c.sites.map((r) => r.localOnlyCIndex)), 12);
      // Computed twice, apart: by the harness from the hospitals' stores, and by each site on its own held-out twins
      // (reported to the coordinator for the final version). Every hospital's test twins count three times in the
      // first mean, once in the second, so the two agree.
      const reported = HOSPITALS.map((h) => c.finalVersionSiteCIndex[h]!);
      expect(reported.every((v) => Number.isFinite(v))).toBe(true);
      expect(c.federatedCIndex).toBeCloseTo(mean(reported), 3);
      // The ground truth ranks the twins (its own C-index is about 0.75): the federated model learnt some of it.
      expect(c.federatedCIndex).toBeGreaterThan(0.55);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
