import { toMarkdown, loadAverage, type BenchTable } from '../bench/report';
import { upsertScaleRows, writeScaleSection, type ScaleDocument } from '../bench/scale-report';
import type { ProfileSummary } from '../bench/cpu-profile';
import type { LoadResult } from './load-run';

/** Parameters of the load model (logistic regression over three inputs, with its bias). */
const LOAD_PARAMS = 4;

/** Requests per site-round: the total and by route. */
function perSiteRound(
  counts: Record<string, number>,
  siteRounds: number,
): { total: number; byRoute: Record<string, number> } {
  const byRoute = Object.fromEntries(Object.entries(counts).map(([route, n]) => [route, n / siteRounds]));
  return { total: Object.values(counts).reduce((a, b) => a + b, 0) / siteRounds, byRoute };
}

/** The load runs as rows of `bench/results/scale.json` (plain FedAvg), and its `load` section in scale.md. */
export function writeScaleLoad(results: readonly LoadResult[]): void {
  const rows = results.map((r) => {
    const siteRounds = r.sites * r.roundsPublished;
    return {
      sites: r.sites,
      params: LOAD_PARAMS,
      secure: false,
      roundP50s: r.p50,
      roundP95s: r.p95,
      coordinatorCpuMsPerSiteRound: (1000 * r.coordinatorCpuSeconds) / siteRounds,
      siteCpuMsPerSiteRound: (1000 * r.swarmCpuSeconds) / siteRounds,
      errors: r.errors.length,
      retried503: r.overloaded,
      rounds: r.roundsPublished,
      cryptoFloorMsPerUpload: r.cryptoFloorMsPerUpload,
      requestsPerSiteRound: perSiteRound(r.requests, siteRounds),
      failedRequestsPerSiteRound: perSiteRound(r.failedRequests, siteRounds),
      siteAddresses: r.siteAddresses,
      socketConnects: r.socketConnects,
      socketConnectErrors: r.socketConnectErrors,
    };
  });
  const addresses = [...new Set(rows.map((r) => r.siteAddresses))].join(', ');
  const table: BenchTable = {
    title: 'Plain FedAvg rounds at scale: CPU per site-round against the cryptographic floor',
    note:
      'One coordinator process (SQLite on disk, every acknowledged write fsynced first) and the simulated sites in one process per core (real enrollment, ' +
      'MAC-authenticated HTTP (the update header signed), socket.io, sealed uploads, evaluations of every version). A site-round is one site taking part in one round: ' +
      'learning of it, fetching and checking the model, uploading, and evaluating the new version. CPU is user + system from ' +
      '/proc over the federation. Floor: Ed25519 verify + X25519 → HKDF → AES-256-GCM open of one of the run’s envelopes, ' +
      'measured after the run in the benchmark process. 503: uploads told OVERLOADED and retried. Sockets: the ' +
      'socket.io connections the sites made, and their attempts that failed (refused upgrades among them). Site addresses ' +
      '(in the header): rows from 2026-12-08 on have one loopback address per site (127.x.y.z, HTTP and socket.io), as ' +
      'real sites each have their own; earlier rows, and runs with `--shared-address`, had every site on 127.0.0.1, ' +
      "where the coordinator's per-address caps (16 anonymous sockets) refused thousands of upgrades per run.",
    columns: [
      'sites',
      'rounds',
      'round p50 s',
      'round p95 s',
      'coordinator CPU ms / site-round',
      'floor ms',
      'coordinator / floor',
      'site CPU ms / site-round',
      'requests / site-round',
      'errors',
      '503 retried',
      'sockets (failed attempts)',
    ],
    rows: rows.map((r) => [
      String(r.sites),
      String(r.rounds),
      r.roundP50s,
      r.roundP95s,
      r.coordinatorCpuMsPerSiteRound,
      r.cryptoFloorMsPerUpload,
      r.coordinatorCpuMsPerSiteRound / r.cryptoFloorMsPerUpload,
      r.siteCpuMsPerSiteRound,
      r.requestsPerSiteRound.total,
      String(r.errors),
      String(r.retried503),
      `${r.socketConnects} (${r.socketConnectErrors})`,
    ]),
  };
  const routes = [
    ...new Set(
      rows.flatMap((r) => [
        ...Object.keys(r.requestsPerSiteRound.byRoute),
        ...Object.keys(r.failedRequestsPerSiteRound.byRoute),
      ]),
    ),
  ].sort();
  const perRoute = (r: (typeof rows)[number], route: string) =>
    r.requestsPerSiteRound.byRoute[route] ?? r.failedRequestsPerSiteRound.byRoute[route] ?? 0;
  const requests: BenchTable = {
    title: 'Authenticated HTTP requests per site-round, by endpoint',
    note:
      "Every request the simulated sites sent during the federation (each attempt of a retried one), counted in the sites' fetch by method " +
      'and route of the API contract, divided by the site-rounds (enrollment and the socket.io stream not included). ' +
      'Rows ending in a status: the attempts of the row above answered so (none: a timeout or a connection failure), included in it.',
    columns: ['endpoint', ...rows.map((r) => `${r.sites} sites`)],
    rows: [
      ...routes.map((route) => [route, ...rows.map((r) => perRoute(r, route))]),
      ['total', ...rows.map((r) => r.requestsPerSiteRound.total)],
    ],
  };
  writeScaleSection({
    name: 'load',
    markdown: toMarkdown('Plain rounds', {}, [table, requests]).replace(/^# Plain rounds\n\n/, ''),
    meta: { loadavg: loadAverage(), 'site addresses': addresses },
    update: (doc) => {
      upsertScaleRows(doc, rows);
      const floors = rows.map((r) => r.cryptoFloorMsPerUpload).sort((a, b) => a - b);
      doc.cryptoFloorMsPerUpload = floors[floors.length >> 1]!;
    },
  });
}

/** Whose CPU a profile sampled: the coordinator process, or the processes simulating the sites (summed). */
type ProfiledSide = 'coordinator' | 'sites';

/** A profile kept under a label (e.g. `before`, `after`) in scale.json. */
interface StoredProfile extends ProfileSummary {
  /** Absent in profiles written before the sites were profiled too: the coordinator. */
  readonly side?: ProfiledSide;
  readonly label: string;
  readonly date: string;
  readonly sites: number;
  readonly rounds: number;
  readonly coordinatorCpuMsPerSiteRound: number;
  readonly siteCpuMsPerSiteRound?: number;
  /** Processes whose profiles were summed (sites only). */
  readonly processes?: number;
}

/** Adds (or replaces) one labelled profile of `side`; scale.md shows every kept profile's top entries. */
export function writeScaleProfile(side: ProfiledSide, label: string, r: LoadResult, profile: ProfileSummary): void {
  const entry: StoredProfile = {
    side,
    label,
    date: new Date().toISOString(),
    sites: r.sites,
    rounds: r.roundsPublished,
    coordinatorCpuMsPerSiteRound: (1000 * r.coordinatorCpuSeconds) / (r.sites * r.roundsPublished),
    siteCpuMsPerSiteRound: (1000 * r.swarmCpuSeconds) / (r.sites * r.roundsPublished),
    ...(side === 'sites' ? { processes: r.siteProcesses } : {}),
    ...profile,
  };
  const sideOf = (p: StoredProfile): ProfiledSide => p.side ?? 'coordinator';
  const profilesOf = (doc: ScaleDocument) => (doc.profiles ?? []) as StoredProfile[];
  writeScaleSection({
    name: 'profile',
    update: (doc) => {
      doc.profiles = [...profilesOf(doc).filter((p) => p.label !== label || sideOf(p) !== side), entry];
    },
    markdown: (doc) =>
      toMarkdown(
        'Profiles',
        {},
        profilesOf(doc).map((p) =>
          sideOf(p) === 'sites'
            ? {
                title: `Sites profile, ${p.label}: top ${p.top.length} functions by self time`,
                note:
                  `${p.date}: ${p.sites} sites × ${p.rounds} rounds simulated in ${p.processes} processes, each under ` +
                  `\`node --cpu-prof\`, their profiles summed over the federation (from its creation to the last site’s end); ` +
                  `${(p.totalMs / 1000).toFixed(1)} s sampled of which ${(p.idleMs / 1000).toFixed(1)} s idle; ` +
                  `${(p.siteCpuMsPerSiteRound ?? Number.NaN).toFixed(2)} ms site CPU per site-round over the federation ` +
                  '(the processes’ CPU, simulator included).',
                columns: ['function (file:line)', 'self ms', '% of busy'],
                rows: p.top.map((e) => [e.frame, e.selfMs, e.selfPct]),
              }
            : {
                title: `Coordinator profile, ${p.label}: top ${p.top.length} functions by self time`,
                note:
                  `${p.date}: ${p.sites} sites × ${p.rounds} rounds, ` +
                  (p.window
                    ? 'the federation only (from its creation to the last site’s end; enrollment left out), '
                    : 'whole coordinator life (enrollment included), ') +
                  `\`node --cpu-prof\`; ${(p.totalMs / 1000).toFixed(1)} s sampled of which ${(p.idleMs / 1000).toFixed(1)} s idle; ` +
                  `${p.coordinatorCpuMsPerSiteRound.toFixed(2)} ms coordinator CPU per site-round over the federation. ` +
                  'Wall time on the main thread: a synchronous fsync in a SQLite commit counts as self time of the committing function.',
                columns: ['function (file:line)', 'self ms', '% of busy'],
                rows: p.top.map((e) => [e.frame, e.selfMs, e.selfPct]),
              },
        ),
      ).replace(/^# Profiles\n\n/, ''),
  });
}
