import { secaggGraph, type SecaggGraph } from '@twinfed/shared';
import { RevealTally } from './secagg-reveal-tally';

const RD = { federationId: 'fed-1', round: 3, baseVersionId: 'fed-1.v2', coordinatorFingerprint: 'ab'.repeat(16) };
const ids = (n: number) => Array.from({ length: n }, (_, i) => `site-${String(i).padStart(3, '0')}`);

/** Every secret's revealed holders counted from scratch (what unmasking checked on each reveal before the tally). */
function enoughFromScratch(graph: SecaggGraph, revealers: ReadonlySet<string>, u3: string[], dropped: string[]) {
  const holders = (v: string, self: boolean) =>
    graph.neighbours(v).filter((h) => revealers.has(h)).length + (self && revealers.has(v) ? 1 : 0);
  return (
    u3.every((v) => holders(v, true) >= graph.threshold) && dropped.every((v) => holders(v, false) >= graph.threshold)
  );
}

describe('the tally of revealed holders', () => {
  test.each([
    ['sparse', 300],
    ['complete', 12],
  ] as const)('agrees with a count from scratch after every reveal (%s graph)', (kind, n) => {
    const cohort = ids(n);
    const graph = secaggGraph({
      ...RD,
      cohort,
      minSites: 2,
      options: { graph: kind, dropoutFraction: 0.1, corruptFraction: 0.1 },
    });
    expect(graph.kind).toBe(kind);
    const dropped = cohort.filter((_, i) => i % 10 === 9);
    const u3 = cohort.filter((_, i) => i % 10 !== 9);
    const tally = new RevealTally(graph);
    const revealers = new Set<string>();
    const outcomes: boolean[] = [];
    // Reveals in a shuffled order, some listed again (each attempt lists every revealer so far).
    const order = [...u3].sort((a, b) => (a.split('').reverse().join('') < b.split('').reverse().join('') ? -1 : 1));
    for (const id of order) {
      revealers.add(id);
      tally.add([...revealers]);
      expect(tally.revealed).toBe(revealers.size);
      const expected = enoughFromScratch(graph, revealers, u3, dropped);
      expect(tally.enough(u3, dropped)).toBe(expected);
      outcomes.push(expected);
    }
    // The check could fail: not enough at first, enough once every survivor revealed.
    expect(outcomes[0]).toBe(false);
    expect(outcomes.at(-1)).toBe(true);
  });
});
