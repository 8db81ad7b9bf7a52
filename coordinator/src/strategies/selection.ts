import { SeededRandom, TwinfedError } from '@twinfed/shared';
import type { SelectionContext } from './types';

/** Purposes that get independent random streams from the same (seed, round). */
export const STREAM = { selection: 1, cyclic: 2 } as const;

/**
 * A 32-bit seed for one purpose in one round, mixed from the plan seed with a murmur3-style finaliser,
 * so (seed, round, stream) → stream is a pure function and neighbouring rounds get unrelated streams.
 */
export function mixSeed(opts: { seed: number; round: number; stream: number }): number {
  let h = (opts.seed >>> 0) ^ Math.imul(opts.stream >>> 0, 0x9e3779b1);
  for (const word of [opts.round >>> 0, Math.floor(opts.round / 2 ** 32) >>> 0]) {
    h = Math.imul(h ^ word, 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** The available sites sorted and de-duplicated, so selection never depends on the caller's order. */
export function sortedAvailable(available: readonly string[]): string[] {
  return [...new Set(available)].sort();
}

/**
 * Every available site, or — when `sitesPerRound` is smaller — a seeded sample of that many.
 * The sample is a pure function of (seed, round, available). Throws `NOT_READY` below `minSites`.
 */
export function selectSites(ctx: SelectionContext): string[] {
  const sites = sortedAvailable(ctx.available);
  if (sites.length < Math.max(1, ctx.minSites)) {
    throw new TwinfedError('NOT_READY', `${sites.length} site(s) available, the plan needs at least ${ctx.minSites}.`);
  }
  const cap = ctx.sitesPerRound;
  if (cap === undefined || cap >= sites.length) return sites;
  const rng = new SeededRandom(mixSeed({ seed: ctx.seed, round: ctx.round, stream: STREAM.selection }));
  return rng.shuffle(sites).slice(0, Math.max(cap, ctx.minSites)).sort();
}
