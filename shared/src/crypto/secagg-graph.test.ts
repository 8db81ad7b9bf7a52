import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { TwinfedError } from '../errors';
import { secaggContext, secaggThreshold } from './secagg';
import {
  DEFAULT_SECAGG_GRAPH,
  SECAGG_GRAPH_SECURITY_BITS,
  secaggGraph,
  secaggGraphParameters,
  type SecaggGraph,
  type SecaggGraphOptions,
} from './secagg-graph';

const RD = { federationId: 'fed-1', round: 4, baseVersionId: 'fed-1.v3', coordinatorFingerprint: 'aaaa-bbbb' };
const ids = (n: number) => Array.from({ length: n }, (_, i) => `site-${String(i).padStart(4, '0')}`);
const sparse: SecaggGraphOptions = { graph: 'sparse', dropoutFraction: 0.1, corruptFraction: 0.1 };
const build = (cohort: readonly string[], options: SecaggGraphOptions = sparse, round = RD) =>
  secaggGraph({ ...round, cohort, minSites: 2, options });

/** The sites reachable from `from` without passing through `removed`. */
function reachable(graph: SecaggGraph, from: string, removed: ReadonlySet<string>): Set<string> {
  const seen = new Set([from]);
  const todo = [from];
  while (todo.length) {
    for (const v of graph.neighbours(todo.pop()!))
      if (!removed.has(v) && !seen.has(v)) {
        seen.add(v);
        todo.push(v);
      }
  }
  return seen;
}

/** A pseudo-random subset of `count` ids drawn with fast-check's shuffled indices. */
const pick = (all: readonly string[], order: readonly number[], count: number) =>
  new Set(order.slice(0, count).map((i) => all[i]!));

describe('SecAgg+ communication graph', () => {
  test('k-regular, symmetric, without self-loops, for any cohort the parameters make sparse', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 260 }), fc.integer({ min: 1, max: 10_000 }), (n, round) => {
        const all = ids(n);
        const g = build(all, sparse, { ...RD, round });
        expect(g.kind).toBe('sparse');
        expect(g.degree % 2).toBe(0);
        for (const u of all) {
          const nb = g.neighbours(u);
          expect(nb).toHaveLength(g.degree);
          expect(new Set(nb).size).toBe(g.degree);
          expect(nb).not.toContain(u);
          for (const v of nb) expect(g.neighbours(v)).toContain(u);
        }
      }),
      { numRuns: 15 },
    );
  });

  test('deterministic from the public seed: the same for any order of the cohort (site and coordinator), another for another round', () => {
    fc.assert(
      fc.property(fc.integer({ min: 30, max: 200 }), fc.integer(), (n, salt) => {
        const all = ids(n);
        const shuffled = [...all].sort((a, b) => ((a.charCodeAt(8) * salt) ^ b.charCodeAt(9)) - 7);
        const coordinator = build(all);
        const site = build(shuffled);
        for (const u of all) expect(site.neighbours(u)).toEqual(coordinator.neighbours(u));
        const next = build(all, sparse, { ...RD, round: RD.round + 1 });
        expect(all.some((u) => next.neighbours(u).join() !== coordinator.neighbours(u).join())).toBe(true);
        const other = build(all, sparse, { ...RD, baseVersionId: 'fed-1.v4' });
        expect(all.some((u) => other.neighbours(u).join() !== coordinator.neighbours(u).join())).toBe(true);
      }),
      { numRuns: 10 },
    );
  });

  test('is the Harary graph over the documented public order: ids sorted by SHA-256(seed ‖ id), seed = SHA-256(context ‖ sorted S)', () => {
    const b64 = (...parts: string[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('base64');
    for (const [n, round] of [
      [60, RD],
      [500, { ...RD, round: 9 }],
    ] as const) {
      const all = ids(n).map((id, i) => `${id}-${(i * 7919).toString(36)}`);
      const g = build(all, sparse, round);
      const seed = b64(`twinfed/secagg-graph/v1\n${secaggContext(round)}\n`, [...all].sort().join('\n'));
      const order = [...all].sort((a, b) => {
        const [ka, kb] = [b64(`${seed}\n`, a), b64(`${seed}\n`, b)];
        return ka < kb ? -1 : ka > kb ? 1 : a < b ? -1 : 1;
      });
      order.forEach((u, p) => {
        const expected = [];
        for (let d = 1; d <= g.degree / 2; d++) expected.push(order[(p + d) % n]!, order[(p - d + n) % n]!);
        expect(g.neighbours(u)).toEqual(expected.sort());
      });
    }
  });

  test('k-connected (Harary): removing any k − 1 sites leaves the rest connected', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 40, max: 200 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })),
          ),
        ([n, order]) => {
          const all = ids(n);
          const g = build(all);
          const removed = pick(all, order, g.degree - 1);
          const rest = all.filter((u) => !removed.has(u));
          expect(reachable(g, rest[0]!, removed).size).toBe(rest.length);
        },
      ),
      { numRuns: 30 },
    );
  });

  test('with ⌈δn⌉ dropped and ⌈γn⌉ corrupt sites anywhere: every secret recoverable, no site with t corrupt neighbours, honest survivors connected', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 30, max: 300 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
              fc.constantFrom(0, 0.05, 0.1, 0.2),
              fc.constantFrom(0, 0.05, 0.1, 0.2),
            ),
          ),
        ([n, order, dropoutFraction, corruptFraction]) => {
          const params = secaggGraphParameters(n, { dropoutFraction, corruptFraction });
          if (!params) return;
          const all = ids(n);
          const g = build(all, { graph: 'sparse', dropoutFraction, corruptFraction });
          const d = Math.ceil(dropoutFraction * n);
          const dropped = pick(all, order, d);
          const corrupt = pick(all, order.slice(d), Math.ceil(corruptFraction * n));
          for (const u of all) {
            const nb = g.neighbours(u);
            // Holders of u's shares still there: its neighbours that did not drop (u itself aside).
            expect(nb.filter((v) => !dropped.has(v)).length).toBeGreaterThanOrEqual(g.threshold);
            const c = nb.filter((v) => corrupt.has(v)).length;
            expect(c).toBeLessThan(g.threshold);
            // The bound the graph states (a site tolerates that many bad consistency MACs) holds, and carries privacy.
            expect(c).toBeLessThanOrEqual(g.corruptNeighbours);
            expect(2 * g.threshold).toBeGreaterThan(g.degree + 1 + g.corruptNeighbours);
            // A split view of u's survival yields at most k + 1 + c of u's shares (an honest holder reveals one kind,
            // a corrupt one both): fewer than t seed shares and t mask-key shares together.
            expect(2 * g.threshold).toBeGreaterThan(g.degree + 1 + c);
          }
          const removed = new Set([...dropped, ...corrupt]);
          const honest = all.filter((u) => !removed.has(u));
          expect(reachable(g, honest[0]!, removed).size).toBe(honest.length);
        },
      ),
      { numRuns: 40 },
    );
  });

  test('parameters per Bell et al.: even k < n − 1, k/2 < t ≤ k, failure below 2^-40, k growing like log n', () => {
    for (const n of [100, 200, 500, 1000]) {
      const p = secaggGraphParameters(n, DEFAULT_SECAGG_GRAPH)!;
      expect(p.degree % 2).toBe(0);
      expect(p.degree).toBeLessThan(n - 1);
      expect(p.threshold).toBeGreaterThan(p.degree / 2);
      expect(p.threshold).toBeLessThanOrEqual(p.degree);
      expect(p.failureLog2).toBeLessThanOrEqual(-SECAGG_GRAPH_SECURITY_BITS);
    }
    // From 500 to 1,000 sites k grows by less than a third, while n doubles; k/n falls as n grows.
    const degree = (n: number) => secaggGraphParameters(n, DEFAULT_SECAGG_GRAPH)!.degree;
    expect(degree(1000)).toBeLessThan((4 / 3) * degree(500));
    expect(degree(1000) / 1000).toBeLessThan(degree(500) / 500);
    expect(degree(500) / 500).toBeLessThan(degree(100) / 100);
    // More dropouts or more corrupt sites need more neighbours.
    const base = secaggGraphParameters(500, { dropoutFraction: 0.05, corruptFraction: 0.05 })!.degree;
    expect(secaggGraphParameters(500, { dropoutFraction: 0.2, corruptFraction: 0.05 })!.degree).toBeGreaterThan(base);
    expect(secaggGraphParameters(500, { dropoutFraction: 0.05, corruptFraction: 0.2 })!.degree).toBeGreaterThan(base);
  });

  test('memoised: parameters and neighbour lists asked again are the same, and a caller changing its copy changes nothing', () => {
    const first = secaggGraphParameters(300, DEFAULT_SECAGG_GRAPH)!;
    const expected = { ...first };
    first.degree = 2;
    expect(secaggGraphParameters(300, DEFAULT_SECAGG_GRAPH)).toEqual(expected);
    expect(secaggGraphParameters(300, DEFAULT_SECAGG_GRAPH, 20)!.degree).toBeLessThan(expected.degree); // σ is in the key
    expect(secaggGraphParameters(300, { dropoutFraction: 0.2, corruptFraction: 0.1 })!.degree).toBeGreaterThan(
      expected.degree,
    );
    const graph = build(ids(300));
    const list = graph.neighbours('site-0007');
    expect(list).toEqual([...list].sort());
    list.pop();
    expect(graph.neighbours('site-0007')).toHaveLength(graph.degree);
    expect(() => graph.neighbours('site-9999')).toThrow(/not in the round's cohort/);
  });

  test('auto keeps the complete graph (Bonawitz threshold) where no k below n − 1 fits (up to 7 sites at the defaults), and complete is complete', () => {
    for (const n of [3, 4, 5, 6, 7]) {
      const all = ids(n);
      const g = build(all, DEFAULT_SECAGG_GRAPH);
      expect(g.kind).toBe('complete');
      expect(g.threshold).toBe(secaggThreshold(n, 2));
      for (const u of all) expect(g.neighbours(u)).toEqual(all.filter((v) => v !== u));
    }
    const big = build(ids(200), { ...DEFAULT_SECAGG_GRAPH, graph: 'complete' });
    expect(big.kind).toBe('complete');
    expect(big.degree).toBe(199);
    expect(build(ids(200), DEFAULT_SECAGG_GRAPH).kind).toBe('sparse');
  });

  test('refusals: sparse where no sparse graph fits, complete above 255 sites, anything above 1,024, bad fractions', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof TwinfedError ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => build(ids(6)))).toBe('SECAGG_COHORT_TOO_SMALL');
    expect(code(() => build(ids(300), { ...DEFAULT_SECAGG_GRAPH, graph: 'complete' }))).toBe('VALIDATION_FAILED');
    expect(code(() => build(ids(1025), DEFAULT_SECAGG_GRAPH))).toBe('VALIDATION_FAILED');
    expect(code(() => build(ids(300), { ...sparse, dropoutFraction: 0.4 }))).toBe('VALIDATION_FAILED');
    expect(
      code(() => secaggGraph({ ...RD, cohort: ids(300), minSites: 2, options: sparse, distributedDp: true })),
    ).toBe('VALIDATION_FAILED');
    expect(code(() => build(ids(300), DEFAULT_SECAGG_GRAPH).neighbours('site-x'))).toBe('VALIDATION_FAILED');
  });
});
