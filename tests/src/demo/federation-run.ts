import path from 'node:path';
import { createAdminClient, type AdminClient } from '@twinfed/coordinator';
import type { EvaluationView, FederationView, PlanInput, RoundView } from '@twinfed/shared';
import { SiteAuditLog, type SitePolicy } from '@twinfed/site-client';
import { coordinatorCli, siteCli } from '../support/paths';
import { jsonLine, runNode, startNode, stop, type Child } from '../support/processes';
import { writeSitePolicy } from '../support/site-policy';
import { roundHeader, roundLine } from './render';
import { readOperatorToken } from '../support/operator-token';

/** A site of the run: its display name and the bundled Fed-Heart-Disease center it holds. */
export interface RunSite {
  name: string;
  center: number;
}

/** What the harness sees while the federation runs. */
export interface Progress {
  federation: FederationView;
  rounds: RoundView[];
  /** Evaluations per published version id. */
  evaluations: Map<string, EvaluationView[]>;
  siteIds: Map<string, string>;
}

/** A running consortium: its coordinator (one process, or replicas behind a proxy at `url`) and one process per site. */
export interface Consortium {
  url: string;
  admin: AdminClient;
  sites: Child[];
  siteIds: Map<string, string>;
  stopAll(): Promise<void>;
}

/** A consortium with one coordinator process. */
export interface SingleConsortium extends Consortium {
  coordinator: Child;
}

/** Starts `twinfed coordinator start` on 127.0.0.1:0 in its own process and waits for its URL. */
export async function startCoordinatorProcess(opts: {
  dataDir: string;
  logLevel?: string;
  /** `--store` (default: SQLite in the data dir). */
  store?: string;
}): Promise<{ child: Child; url: string; token: string }> {
  const child = startNode({
    name: 'coordinator',
    script: coordinatorCli(),
    args: [
      '--json',
      '--data-dir',
      opts.dataDir,
      'coordinator',
      'start',
      '--port',
      '0',
      ...(opts.store ? ['--store', opts.store] : []),
    ],
    env: { TWINFED_LOG_LEVEL: opts.logLevel ?? 'warn' },
  });
  const line = await child.waitForLine(/"url"\s*:/, 30_000);
  const { url } = JSON.parse(line) as { url: string };
  const token = readOperatorToken(opts.dataDir);
  return { child, url, token };
}

/**
 * Brings up a consortium as separate processes: a coordinator, then each site invited by the operator
 * and enrolled with its one-time token through `twinfed-site enroll`. Each site gets `sitePolicy` as its policy file
 * (null: none, so that a person must approve every plan with `twinfed-site plans approve`).
 */
export async function startConsortium(opts: {
  workDir: string;
  sites: RunSite[];
  sitePolicy: SitePolicy | null;
  logLevel?: string;
}): Promise<SingleConsortium> {
  const coord = await startCoordinatorProcess({
    dataDir: path.join(opts.workDir, 'coordinator'),
    ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
  });
  const admin = createAdminClient({ baseUrl: coord.url, token: coord.token });
  const siteIds = await enrollSites({ ...opts, admin, coordinatorUrls: () => [coord.url] });
  const consortium: SingleConsortium = {
    url: coord.url,
    admin,
    coordinator: coord.child,
    sites: [],
    siteIds,
    stopAll: async () => {
      await Promise.all(consortium.sites.map((c) => stop(c)));
      await stop(consortium.coordinator);
    },
  };
  return consortium;
}

/**
 * Invites each site and enrolls it with its one-time token through `twinfed-site enroll --coordinator <urls>` (one
 * URL, or a list of replicas' URLs the site fails over between); writes `sitePolicy` as its policy file when given.
 * Returns each site's enrolled id by name.
 */
export async function enrollSites(opts: {
  admin: AdminClient;
  workDir: string;
  sites: RunSite[];
  sitePolicy: SitePolicy | null;
  coordinatorUrls: (site: RunSite) => string[];
}): Promise<Map<string, string>> {
  const siteIds = new Map<string, string>();
  for (const s of opts.sites) {
    const inv = await opts.admin.createInvitation({ siteName: s.name });
    const lines = await runNode({
      name: `enroll ${s.name}`,
      script: siteCli(),
      args: [
        '--json',
        'enroll',
        '--coordinator',
        opts.coordinatorUrls(s).join(','),
        '--token',
        inv.token,
        '--data-dir',
        siteDir(opts.workDir, s),
      ],
    });
    const info = lines.map(jsonLine).find((j) => j && typeof j.siteId === 'string');
    if (!info) throw new Error(`enroll ${s.name}: no site id in output:\n${lines.join('\n')}`);
    siteIds.set(s.name, String(info.siteId));
    if (opts.sitePolicy) writeSitePolicy(siteDir(opts.workDir, s), opts.sitePolicy);
  }
  return siteIds;
}

/** The data dir of a site under the work dir. */
export function siteDir(workDir: string, s: RunSite): string {
  return path.join(workDir, `site-${s.center}`);
}

/** The arguments of `twinfed-site run` for a site training its bundled center in a federation. */
export function siteRunArgs(o: { workDir: string; site: RunSite; federationId: string }): string[] {
  return [
    'run',
    '--heart-disease',
    String(o.site.center),
    '--federation',
    o.federationId,
    '--data-dir',
    siteDir(o.workDir, o.site),
  ];
}

/** Creates the federation and starts `twinfed-site run` for every site. */
export async function runFederation(
  c: Consortium,
  opts: { workDir: string; sites: RunSite[]; plan: PlanInput; logLevel?: string },
): Promise<FederationView> {
  const fed = await c.admin.createFederation(opts.plan);
  for (const s of opts.sites) {
    c.sites.push(
      startNode({
        name: s.name,
        script: siteCli(),
        args: siteRunArgs({ workDir: opts.workDir, site: s, federationId: fed.id }),
        env: { TWINFED_LOG_LEVEL: opts.logLevel ?? 'warn' },
      }),
    );
  }
  return fed;
}

/** Polls the coordinator until the federation ends, calling `onProgress` on every change. */
export async function watchFederation(
  c: Consortium,
  opts: { federationId: string; timeoutMs: number; onProgress?: (p: Progress) => void },
): Promise<Progress> {
  const deadline = Date.now() + opts.timeoutMs;
  const evaluations = new Map<string, EvaluationView[]>();
  let last = '';
  let unreachableSince: number | null = null;
  for (;;) {
    // A coordinator replica that dies closes the operator's connection: look again (through the load balancer) for
    // up to 30 s before giving up.
    let federation: FederationView;
    let rounds: RoundView[];
    try {
      federation = await c.admin.getFederation(opts.federationId);
      rounds = await c.admin.listRounds(opts.federationId);
      for (const r of rounds) {
        if (r.versionId && (evaluations.get(r.versionId)?.length ?? 0) < r.selectedSiteIds.length)
          evaluations.set(r.versionId, await c.admin.listEvaluations(r.versionId));
      }
      unreachableSince = null;
    } catch (e) {
      if ((e as { code?: string }).code !== 'NETWORK') throw e;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > 30_000) throw e;
      await new Promise((r) => setTimeout(r, 300));
      continue;
    }
    const progress: Progress = { federation, rounds, evaluations, siteIds: c.siteIds };
    const key = JSON.stringify([
      federation.state,
      rounds.map((r) => [r.state, r.received]),
      [...evaluations.values()].map((e) => e.length),
    ]);
    if (key !== last) {
      last = key;
      opts.onProgress?.(progress);
    }
    const evaluated = rounds
      .filter((r) => r.versionId)
      .every((r) => (evaluations.get(r.versionId!)?.length ?? 0) >= r.selectedSiteIds.length);
    const sitesDone = c.sites.every((s) => s.proc.exitCode !== null);
    if (federation.state !== 'running' && (evaluated || sitesDone)) return progress;
    if (Date.now() > deadline)
      throw new Error(
        `federation ${opts.federationId} did not finish within ${opts.timeoutMs} ms (state ${federation.state})`,
      );
    const dead = c.sites.find((s) => s.proc.exitCode !== null && s.proc.exitCode !== 0);
    if (dead)
      throw new Error(`site ${dead.name} exited with ${dead.proc.exitCode}:\n${dead.lines.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/**
 * Watches the federation to its end (10 minutes at most), printing the per-round table as rounds publish (C-index
 * columns with `timeToEvent`); returns the final view.
 */
export async function watchAndPrintRounds(
  c: Consortium,
  federationId: string,
  names: string[],
  timeToEvent = false,
): Promise<Progress> {
  console.log(roundHeader(names, timeToEvent));
  let printed = 0;
  const final = await watchFederation(c, {
    federationId,
    timeoutMs: 10 * 60 * 1000,
    onProgress: (p) => {
      for (let line = roundLine(p, printed + 1, names); line; line = roundLine(p, printed + 1, names)) {
        console.log(line);
        printed++;
      }
    },
  });
  for (let r = printed + 1; r <= final.rounds.length; r++)
    console.log(roundLine(final, r, names) ?? `round ${r}: ${final.rounds[r - 1]?.state}`);
  return final;
}

/**
 * Prints, from each site's own audit chain, how it decided on the federation's plan: who approved which plan hash
 * (here each hospital's policy), the record the hospital keeps of what ran on its data.
 */
export function printPlanApprovals(o: { workDir: string; sites: RunSite[]; federationId: string }): void {
  console.log("\nEach hospital's decision on the plan, from its own audit chain (`twinfed-site audit list`):");
  for (const s of o.sites) {
    const decision = new SiteAuditLog(siteDir(o.workDir, s))
      .list()
      .filter((e) => e.subject === o.federationId && /^plan\.(approved|rejected|revoked)$/.test(e.action))
      .pop();
    const d = decision?.detail as { planSha256?: string; decidedBy?: string } | undefined;
    console.log(
      `  ${s.name.padEnd(20)} ${decision ? `${decision.action.slice('plan.'.length)} plan ${String(d?.planSha256).slice(0, 12)}… by ${d?.decidedBy === 'policy' ? 'its policy' : decision.actor} at ${decision.at}` : 'no decision'}`,
    );
  }
}
