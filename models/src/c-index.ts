/**
 * Harrell's concordance index of a risk score on time-to-event data: among the comparable pairs, the fraction
 * the score orders correctly. A pair (i, j) is comparable when i had the event and j was still at risk after it:
 * t_i < t_j, or t_i = t_j with j censored (a censored row is taken to outlive an event at its own time, as
 * lifelines and R's `survival` do). It is concordant when i's risk is higher; tied risks count one half. Pairs
 * of events at the same time are not comparable.
 */

/** One risk score, time and 0/1 event per row. */
interface SurvivalScored {
  readonly risk: ArrayLike<number>;
  readonly time: ArrayLike<number>;
  readonly event: ArrayLike<number>;
}

/** Counts of a Fenwick tree over risk ranks 1..size. */
class Fenwick {
  private readonly tree: Float64Array;
  constructor(private readonly size: number) {
    this.tree = new Float64Array(size + 1);
  }
  add(rank: number): void {
    for (let i = rank; i <= this.size; i += i & -i) this.tree[i]! += 1;
  }
  /** How many added ranks are ≤ rank. */
  upTo(rank: number): number {
    let s = 0;
    for (let i = rank; i > 0; i -= i & -i) s += this.tree[i]!;
    return s;
  }
}

/**
 * Harrell's C-index in O(n log n): rows are visited from the latest time down, each tie group adding its censored
 * rows to a Fenwick tree of risk ranks before its events are scored against the tree, and its events after.
 * NaN when no pair is comparable (no event, or every event at the last time).
 */
export function cIndex({ risk, time, event }: SurvivalScored): number {
  const n = risk.length;
  if (time.length !== n || event.length !== n) throw new RangeError('risk, time and event must have one value per row');
  const distinct = [...new Set(Array.from(risk))].sort((a, b) => a - b);
  const rankOf = new Map(distinct.map((r, i) => [r, i + 1]));
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => time[b]! - time[a]!);
  const tree = new Fenwick(distinct.length);
  let inTree = 0;
  let comparable = 0;
  let concordant = 0;
  for (let start = 0; start < n;) {
    let end = start;
    while (end + 1 < n && time[order[end + 1]!] === time[order[start]!]) end++;
    for (let k = start; k <= end; k++) {
      if (event[order[k]!] === 1) continue;
      tree.add(rankOf.get(risk[order[k]!]!)!);
      inTree++;
    }
    for (let k = start; k <= end; k++) {
      if (event[order[k]!] !== 1) continue;
      const rank = rankOf.get(risk[order[k]!]!)!;
      const below = tree.upTo(rank - 1);
      const tied = tree.upTo(rank) - below;
      comparable += inTree;
      concordant += below + tied / 2;
    }
    for (let k = start; k <= end; k++) {
      if (event[order[k]!] !== 1) continue;
      tree.add(rankOf.get(risk[order[k]!]!)!);
      inTree++;
    }
    start = end + 1;
  }
  return comparable === 0 ? NaN : concordant / comparable;
}
