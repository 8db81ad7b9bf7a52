/**
 * The communication graph of secure aggregation (SecAgg+, Bell et al., CCS 2020). Bonawitz's construction
 * (crypto/secagg) has every site share its secrets with and mask against every other site: O(n²) relayed boxes and
 * O(n·P) masking per site. SecAgg+ replaces the complete graph with a sparse k-regular one — a Harary graph H(k, n)
 * over a public pseudo-random order of the cohort: site at position p is the neighbour of the sites at positions
 * p ± 1, …, p ± k/2 (mod n). Each site shares its secrets (Shamir, threshold t) only with its k neighbours (and
 * itself) and masks only against its neighbours, so the cost per site is O(k) boxes and O(k·P) masking.
 *
 * The order is derived from a public seed of the round — SHA-256 over the round context C (federation, round, base
 * version, coordinator key) and the sorted cohort S — so every site and the coordinator compute the same graph, and
 * nobody chooses it. k and t come from the cohort size n, the tolerated dropout fraction δ and the assumed corrupt
 * fraction γ ({@link secaggGraphParameters}): the smallest even k for which, with at most ⌈δn⌉ dropped and ⌈γn⌉
 * corrupt sites placed at random by the order, each of three failures has probability at most 2^-σ / 3 (σ = 40):
 *
 *   reconstruction  some site has more than k − t dropped neighbours (its secret could not be recovered):
 *                   n · Pr[HG(n − 1, ⌈δn⌉, k) > k − t]
 *   privacy         some site has t or more corrupt neighbours (they and the coordinator could rebuild its secrets):
 *                   n · Pr[HG(n − 1, ⌈γn⌉, k) ≥ t]
 *   connectivity    the honest survivors' subgraph falls apart (the sum of one part would be exposed), which needs
 *                   k/2 consecutive removed sites in the order: n · Π_{i<k/2} (⌈γn⌉ + ⌈δn⌉ − i) / (n − i)
 *
 * (HG: the hypergeometric distribution of how many of k neighbours drawn from n − 1 sites fall into a set of that
 * size; union bounds over the n sites.) t is the smallest threshold above the corrupt-neighbour bound c and above
 * (k + 1 + c)/2: a lying coordinator that shows some of v's k + 1 share holders v ∈ U3 and the others v ∉ U3 gets
 * seed shares from the first group and mask-key shares from the second (an honest holder reveals one kind per site),
 * and both kinds from each of v's ≤ c corrupt neighbours — at most k + 1 + c shares in all, fewer than 2t, so never
 * t of each. This is what lets a site check only its neighbours' consistency signatures (secure-round in
 * site-client; docs/decisions.md, 2026-12-07): no global agreement on U3 is needed to keep both shares of one site
 * from leaking. Since t ≤ k − (the dropped-neighbour bound) must hold too, k is larger than with t > c alone.
 * When no even k below n − 1 meets all three, the graph is the complete one and t is Bonawitz's ⌊2n/3⌋ + 1.
 */
import { hash } from 'node:crypto';
import { TwinfedError } from '../errors';
import { sha256Parts } from './hash';
import { toB64 } from './encoding';
import { SECAGG_MAX_COHORT, secaggContext, secaggThreshold, type SecaggRound } from './secagg';

/** How the graph is chosen: always complete (Bonawitz), always sparse (SecAgg+), or sparse only where it is smaller. */
export type SecaggGraphKind = 'complete' | 'sparse' | 'auto';

/** The plan's choice of graph and the fractions it must tolerate. */
export interface SecaggGraphOptions {
  graph: SecaggGraphKind;
  /** δ: the fraction of the cohort that may drop out during the round. */
  dropoutFraction: number;
  /** γ: the fraction of the cohort assumed to collude with the coordinator. */
  corruptFraction: number;
}

/** Defaults of {@link SecaggGraphOptions}: sparse where it pays off, 10 % dropouts, 10 % corrupt sites. */
export const DEFAULT_SECAGG_GRAPH: SecaggGraphOptions = { graph: 'auto', dropoutFraction: 0.1, corruptFraction: 0.1 };

/** σ: the graph fails (any of its three properties) with probability at most 2^-σ. */
export const SECAGG_GRAPH_SECURITY_BITS = 40;

/** The most sites a sparse-graph cohort may have: every masked sum stays below 2^63 (secagg-payload: 2^10 · 2^53). */
export const SECAGG_MAX_SPARSE_COHORT = 1024;

/** The graph of a round: its degree k, the Shamir threshold t of each neighbourhood, and who neighbours whom. */
export interface SecaggGraph {
  readonly kind: 'complete' | 'sparse';
  /** Neighbours per site (n − 1 for the complete graph). */
  readonly degree: number;
  /** Shares (of the k + 1 a site hands out, its own included) that rebuild one of its secrets. */
  readonly threshold: number;
  /**
   * c: the most corrupt neighbours a site is assumed to have (sparse: the bound of {@link secaggGraphParameters};
   * complete: 2t − n − 1, the most Bonawitz's 2t > n + c tolerates). A site tolerates this many consistency MACs
   * that do not verify (a corrupt neighbour may send garbage the coordinator cannot check), never more.
   */
  readonly corruptNeighbours: number;
  /** log2 of the bound on the failure probability (−∞ for the complete graph: it has no random failure). */
  readonly failureLog2: number;
  /** The neighbours of `siteId`, sorted, not including itself. */
  neighbours(siteId: string): string[];
}

/** k, t and the failure bound for a cohort of n sites; `null` when no sparse graph beats the complete one. */
interface SecaggGraphParameters {
  degree: number;
  threshold: number;
  /** c: the corrupt-neighbour bound (t > c and 2t > k + 1 + c). */
  corruptNeighbours: number;
  failureLog2: number;
}

const LOG_FACTORIAL: number[] = [0];
function logFactorial(n: number): number {
  for (let i = LOG_FACTORIAL.length; i <= n; i++) LOG_FACTORIAL.push(LOG_FACTORIAL[i - 1]! + Math.log(i));
  return LOG_FACTORIAL[n]!;
}
const logChoose = (n: number, r: number): number =>
  r < 0 || r > n ? -Infinity : logFactorial(n) - logFactorial(r) - logFactorial(n - r);

/** Pr[X > x] for X ~ HG(population, marked, draws), summed from the top (the small tail, accurately). */
function hypergeometricTail(population: number, marked: number, draws: number, x: number): number {
  const total = logChoose(population, draws);
  let p = 0;
  for (let i = Math.min(marked, draws); i > x; i--) {
    p += Math.exp(logChoose(marked, i) + logChoose(population - marked, draws - i) - total);
  }
  return p;
}

/** The smallest x with n · Pr[HG(n − 1, marked, k) > x] ≤ bound. */
function tailQuantile(n: number, marked: number, k: number, bound: number): number {
  for (let x = 0; x < k; x++) if (n * hypergeometricTail(n - 1, marked, k, x) <= bound) return x;
  return k;
}

/** n · Pr[k/2 given consecutive positions of the order are all removed], removed = ⌈γn⌉ + ⌈δn⌉. */
function disconnectBound(n: number, removed: number, k: number): number {
  let p = n;
  for (let i = 0; i < k / 2; i++) p *= Math.max(0, removed - i) / (n - i);
  return p;
}

/** Throws `VALIDATION_FAILED` unless δ and γ are fractions below 1/3 (the consistency threshold needs more than 2n/3). */
function checkSecaggFractions(o: { dropoutFraction: number; corruptFraction: number }): void {
  for (const [name, f] of [
    ['dropoutFraction', o.dropoutFraction],
    ['corruptFraction', o.corruptFraction],
  ] as const) {
    if (!Number.isFinite(f) || f < 0 || f >= 1 / 3)
      throw new TwinfedError('VALIDATION_FAILED', `secure aggregation: ${name} must be in [0, 1/3), not ${f}.`);
  }
}

/**
 * SecAgg+ parameters for n sites (Bell et al.): the smallest even k < n − 1 and its t meeting the three bounds of
 * the module comment at 2^-σ in total; `null` when none does (use the complete graph).
 */
export function secaggGraphParameters(
  n: number,
  o: { dropoutFraction: number; corruptFraction: number },
  securityBits = SECAGG_GRAPH_SECURITY_BITS,
): SecaggGraphParameters | null {
  checkSecaggFractions(o);
  // A pure function of four numbers, asked once per round by every site and by the coordinator on every message.
  const key = `${n}\n${o.dropoutFraction}\n${o.corruptFraction}\n${securityBits}`;
  if (!PARAMETERS.has(key)) {
    if (PARAMETERS.size >= 256) PARAMETERS.delete(PARAMETERS.keys().next().value as string);
    PARAMETERS.set(key, searchGraphParameters(n, o, securityBits));
  }
  const found = PARAMETERS.get(key)!;
  return found && { ...found };
}

/** {@link secaggGraphParameters} already computed, by n, δ, γ and σ. */
const PARAMETERS = new Map<string, SecaggGraphParameters | null>();

function searchGraphParameters(
  n: number,
  o: { dropoutFraction: number; corruptFraction: number },
  securityBits: number,
): SecaggGraphParameters | null {
  const dropped = Math.ceil(o.dropoutFraction * n);
  const corrupt = Math.ceil(o.corruptFraction * n);
  const each = 2 ** -securityBits / 3;
  for (let k = 2; k < n - 1; k += 2) {
    if (disconnectBound(n, dropped + corrupt, k) > each) continue;
    const c = tailQuantile(n, corrupt, k, each);
    const t = Math.max(c + 1, Math.floor((k + 1 + c) / 2) + 1);
    const maxDropped = tailQuantile(n, dropped, k, each);
    if (t > k - maxDropped) continue;
    const failure =
      disconnectBound(n, dropped + corrupt, k) +
      n * hypergeometricTail(n - 1, corrupt, k, t - 1) +
      n * hypergeometricTail(n - 1, dropped, k, k - t);
    return { degree: k, threshold: t, corruptNeighbours: c, failureLog2: Math.log2(failure) };
  }
  return null;
}

/** The public seed of a round's graph: SHA-256 over the round context and the sorted cohort. */
function graphSeed(round: SecaggRound, cohort: readonly string[]): Uint8Array {
  return sha256Parts([`twinfed/secagg-graph/v1\n${secaggContext(round)}\n`, [...cohort].sort().join('\n')]);
}

/** The cohort in the round's public pseudo-random order (sorted by SHA-256(seed ‖ id)). */
function publicOrder(round: SecaggRound, cohort: readonly string[]): string[] {
  const seed = toB64(graphSeed(round, cohort));
  // Each id with its key, hashed one-shot (every site orders the whole cohort every round: 500 hash objects and four
  // map lookups per comparison were ≈ 9× this).
  const keyed = cohort.map((id) => ({ id, key: hash('sha256', `${seed}\n${id}`, 'base64') }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : 1));
  return keyed.map((x) => x.id);
}

function completeGraph(cohort: readonly string[], minSites: number): SecaggGraph {
  const sorted = [...cohort].sort();
  const threshold = secaggThreshold(cohort.length, minSites);
  return {
    kind: 'complete',
    degree: cohort.length - 1,
    threshold,
    corruptNeighbours: Math.max(0, 2 * threshold - cohort.length - 1),
    failureLog2: -Infinity,
    neighbours: (id) => sorted.filter((x) => x !== id),
  };
}

function harary(order: readonly string[], p: SecaggGraphParameters): SecaggGraph {
  const n = order.length;
  const position = new Map(order.map((id, i) => [id, i]));
  // Each site's sorted list is computed once per graph (a site checks up to k + 1 neighbourhoods per round, the
  // coordinator every member's); callers get a copy. The ids are sorted once, here: a list is then its neighbours'
  // ranks in that order, sorted as integers (a site sorted k ids per neighbourhood it checked).
  const byId = [...order].sort();
  const rankOf = new Map(byId.map((id, i) => [id, i]));
  const rank = Int32Array.from(order, (id) => rankOf.get(id)!);
  const lists = new Map<string, readonly string[]>();
  return {
    kind: 'sparse',
    degree: p.degree,
    threshold: p.threshold,
    corruptNeighbours: p.corruptNeighbours,
    failureLog2: p.failureLog2,
    neighbours(id) {
      let list = lists.get(id);
      if (!list) {
        const at = position.get(id);
        if (at === undefined) throw new TwinfedError('VALIDATION_FAILED', `Site ${id} is not in the round's cohort.`);
        const ranks = new Int32Array(2 * Math.floor(p.degree / 2));
        for (let d = 1; d <= p.degree / 2; d++) {
          ranks[2 * d - 2] = rank[(at + d) % n]!;
          ranks[2 * d - 1] = rank[(at - d + n) % n]!;
        }
        ranks.sort();
        // By index, not Array.from(ranks, …): that walks the typed array's iterator, a heap object per neighbour.
        const ids: string[] = [];
        for (let i = 0; i < ranks.length; i++) ids.push(byId[ranks[i]!]!);
        lists.set(id, (list = ids));
      }
      return [...list];
    },
  };
}

/**
 * The round's graph, the same for every site and the coordinator: complete (Bonawitz) or the SecAgg+ Harary graph
 * over the public order. `cohort` is S, the round's selected sites. Throws `SECAGG_COHORT_TOO_SMALL` when
 * `graph: 'sparse'` is asked of a cohort no sparse graph fits, and `VALIDATION_FAILED` for a cohort too large for the
 * graph (a complete graph above {@link SECAGG_MAX_COHORT}, any above {@link SECAGG_MAX_SPARSE_COHORT}).
 */
export function secaggGraph(
  o: SecaggRound & {
    cohort: readonly string[];
    minSites: number;
    options: SecaggGraphOptions;
    /** Distributed DP decodes its sums exactly only up to {@link SECAGG_MAX_COHORT} sites (plan: `ddpSumBound`). */
    distributedDp?: boolean;
  },
): SecaggGraph {
  const n = o.cohort.length;
  const max = o.distributedDp ? SECAGG_MAX_COHORT : SECAGG_MAX_SPARSE_COHORT;
  if (n > max)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `Secure aggregation${o.distributedDp ? ' with distributed DP' : ''} takes at most ${max} sites per round, not ${n}.`,
    );
  const params = o.options.graph === 'complete' ? null : secaggGraphParameters(n, o.options);
  if (!params) {
    if (o.options.graph === 'sparse')
      throw new TwinfedError(
        'SECAGG_COHORT_TOO_SMALL',
        `No sparse secure-aggregation graph over ${n} sites keeps its failure probability below 2^-${SECAGG_GRAPH_SECURITY_BITS} with dropoutFraction ${o.options.dropoutFraction} and corruptFraction ${o.options.corruptFraction}; choose graph "auto" or "complete", or a larger cohort.`,
      );
    if (n > SECAGG_MAX_COHORT)
      throw new TwinfedError(
        'VALIDATION_FAILED',
        `A complete secure-aggregation graph takes at most ${SECAGG_MAX_COHORT} sites per round, not ${n}.`,
      );
    return completeGraph(o.cohort, o.minSites);
  }
  if (params.degree + 1 > SECAGG_MAX_COHORT)
    throw new TwinfedError(
      'VALIDATION_FAILED',
      `A sparse graph of degree ${params.degree} needs more than the ${SECAGG_MAX_COHORT} Shamir shares a site can hand out.`,
    );
  return harary(publicOrder(o, o.cohort), params);
}
