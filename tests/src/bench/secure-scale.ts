/**
 * Secure aggregation at scale, complete graph (Bonawitz) against the sparse one (SecAgg+), at 100, 500 and 1,000
 * sites with 10k and 100k parameters and 10 % of the sites dropping after masking: per site (share, mask,
 * signatures) and at the coordinator (sum, recover, unmask), next to a plain example-weighted sum of the same vectors
 * measured in the same run. The complete graph stops at 255 sites (GF(2^8) Shamir shares), so above that only the
 * sparse graph runs. Writes the `secure-aggregation` section of bench/results/scale.{json,md}.
 */
import { benchSecureAggregation } from './secure-aggregation';
import { tableMarkdown, type BenchTable } from './report';
import { writeScaleSection } from './scale-report';

/** The largest cohort the complete graph takes (one Shamir share per member, GF(2^8)). */
const COMPLETE_MAX_SITES = 255;

/** Runs every (sites, params) for both graphs (complete only up to 255 sites) and writes the scale section. */
export async function benchSecureScale(opts: {
  sites: readonly number[];
  params: readonly number[];
  log: (line: string) => void;
}): Promise<void> {
  const rows: Array<Awaited<ReturnType<typeof benchSecureAggregation>>> = [];
  for (const size of opts.params)
    for (const sites of opts.sites)
      for (const graph of ['complete', 'sparse'] as const) {
        if (graph === 'complete' && sites > COMPLETE_MAX_SITES) continue;
        const r = await benchSecureAggregation({ sites, size, graph, iterations: 1, dropFraction: 0.1 });
        opts.log(
          `secure aggregation ${graph} ${sites} × ${size}: k = ${r.degree}, site mask ${r.siteMaskMs.toFixed(1)} ms, coordinator (10 % dropped) ${r.serverDroppedMs.toFixed(0)} ms, plain ${r.plainSumMs.toFixed(1)} ms`,
        );
        rows.push(r);
        writeSection(rows);
      }
  const out = writeSection(rows);
  opts.log(`wrote ${out.json} and ${out.md}`);
}

/** Writes the section from the rows measured so far (after each configuration: a long run keeps what it measured). */
function writeSection(rows: ReadonlyArray<Awaited<ReturnType<typeof benchSecureAggregation>>>): {
  json: string;
  md: string;
} {
  const complete = (sites: number, size: number) =>
    rows.find((r) => r.graph === 'complete' && r.sites === sites && r.size === size);
  const table: BenchTable = {
    title: 'Secure aggregation: complete graph (Bonawitz) vs sparse graph (SecAgg+), 10 % dropping after masking',
    note: "Milliseconds, one run each. Site: share its secrets with its neighbours (all others for the complete graph) and itself, mask its update against them, and its signatures against a lying coordinator. Coordinator: add the survivors' masked vectors, recombine each survivor's seed and each dropped site's mask key from t shares, remove the masks. Plain: a bare example-weighted sum of the same float vectors (plain FedAvg's fold), same run. `sparse / complete` compares the site's share + mask time at the same size; the complete graph cannot take more than 255 sites (—). δ = γ = 0.1, failure ≤ 2^-40. Max error: largest |unmasked − plain sum| (fixed point, 2^-20 per site).",
    columns: [
      'sites × parameters',
      'graph',
      'k',
      't',
      'dropped',
      'site: share ms',
      'site: mask ms',
      'site: signatures ms',
      'coordinator ms',
      'coordinator, 10 % dropped ms',
      'plain sum ms',
      'coordinator (dropped) / plain',
      'site: sparse / complete',
      'max error',
    ],
    rows: rows.map((r) => {
      const c = r.graph === 'sparse' ? complete(r.sites, r.size) : undefined;
      return [
        `${r.sites} × ${r.size.toLocaleString('en')}`,
        r.graph,
        r.degree,
        r.threshold,
        r.dropped,
        r.siteShareMs,
        r.siteMaskMs,
        r.siteSignaturesMs,
        r.serverMs,
        r.serverDroppedMs,
        r.plainSumMs,
        r.serverDroppedMs / r.plainSumMs,
        c ? (r.siteShareMs + r.siteMaskMs) / (c.siteShareMs + c.siteMaskMs) : '—',
        r.maxAbsError.toExponential(1),
      ];
    }),
  };
  return writeScaleSection({
    name: 'secure-aggregation',
    markdown: tableMarkdown(table).join('\n'),
    update: (doc) => {
      doc.secureAggregationCost = rows;
    },
  });
}
