import { DEFAULT_SECAGG_GRAPH, secaggGraphParameters } from '@twinfed/shared';
import { loadAverage, tableMarkdown } from '../bench/report';
import { upsertScaleRows, writeScaleSection, type ScaleRow } from '../bench/scale-report';
import { runLoad, type LoadResult } from './load-run';

/** Parameters of the load test's model (logistic regression over 3 inputs: 3 weights and a bias). */
const LOAD_PARAMS = 4;

const perSiteRoundMs = (seconds: number, r: LoadResult) => (1000 * seconds) / (r.sites * r.roundsPublished);

/**
 * The secure-aggregation load benchmark: for each site count, the plain load run and then the same federation with
 * `privacy.secureAggregation` (default graph: sparse where it pays off), each with its own coordinator process and
 * simulated sites, one after the other in the same run. Writes the `secure-load` section of
 * bench/results/scale.{json,md}: rows with `secure: true` carrying the plain run's p50 as `plainRoundP50sSameRun`.
 */
export async function benchSecureLoad(o: {
  sizes: number[];
  rounds: number;
  log?: (line: string) => void;
}): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const sites of o.sizes) {
    o.log?.(`secure load: ${sites} sites × ${o.rounds} rounds, plain then secure…`);
    const plain = await runLoad({ sites, rounds: o.rounds, ...(o.log ? { log: o.log } : {}) });
    const secure = await runLoad({ sites, rounds: o.rounds, secure: true, ...(o.log ? { log: o.log } : {}) });
    for (const r of [plain, secure])
      if (r.errors.length > 0) o.log?.(`load: ${r.errors.length} errors, e.g. ${r.errors.slice(0, 3).join('; ')}`);
    const graph = secaggGraphParameters(sites, DEFAULT_SECAGG_GRAPH);
    rows.push({
      sites,
      params: LOAD_PARAMS,
      secure: true,
      roundP50s: secure.p50,
      roundP95s: secure.p95,
      coordinatorCpuMsPerSiteRound: perSiteRoundMs(secure.coordinatorCpuSeconds, secure),
      siteCpuMsPerSiteRound: perSiteRoundMs(secure.swarmCpuSeconds, secure),
      errors: secure.errors.length,
      retried503: secure.overloaded,
      roundsPublished: secure.roundsPublished,
      graph: graph ? 'sparse' : 'complete',
      degree: graph?.degree ?? sites - 1,
      plainRoundP50sSameRun: plain.p50,
      plainRoundP95sSameRun: plain.p95,
      plainCoordinatorCpuMsPerSiteRound: perSiteRoundMs(plain.coordinatorCpuSeconds, plain),
      plainErrorsSameRun: plain.errors.length,
      p50RatioToPlain: secure.p50 / plain.p50,
      loadavg: loadAverage(),
    });
  }
  const markdown = tableMarkdown({
    title: 'Secure rounds under load (SecAgg+ where it pays off), against plain rounds of the same run',
    note:
      'Each site count runs the plain load federation (see `load`) and then the same plan with `privacy.secureAggregation` ' +
      '(key shares, masked uploads, consistency signatures, reveals over the default graph, δ = γ = 0.1), each against a fresh ' +
      'coordinator process, one after the other. Round: opening to publication. Target: secure p50 ≤ 3 × plain p50 at 500 sites.',
    columns: [
      'sites',
      'graph (k)',
      'rounds',
      'secure p50 s',
      'secure p95 s',
      'plain p50 s (same run)',
      'secure / plain p50',
      'coordinator CPU ms / site-round (secure, plain)',
      'sites CPU ms / site-round',
      'errors',
      '503 retried',
    ],
    rows: rows.map((r) => [
      String(r.sites),
      `${String(r.graph)} (${String(r.degree)})`,
      String(r.roundsPublished),
      r.roundP50s,
      r.roundP95s,
      r.plainRoundP50sSameRun as number,
      r.p50RatioToPlain as number,
      `${r.coordinatorCpuMsPerSiteRound.toFixed(1)}, ${(r.plainCoordinatorCpuMsPerSiteRound as number).toFixed(1)}`,
      r.siteCpuMsPerSiteRound,
      String(r.errors),
      String(r.retried503),
    ]),
  }).join('\n');
  const out = writeScaleSection({
    name: 'secure-load',
    markdown,
    update: (doc) => {
      upsertScaleRows(doc, rows);
    },
  });
  o.log?.(`${markdown}\nwritten: ${out.json}, ${out.md}`);
  return rows;
}
