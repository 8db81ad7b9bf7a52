import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAdminClient } from '@twinfed/coordinator';
import { SIM_NAMED_PATIENTS, twinScenarioPlan } from '@twinfed/site-client';
import { siteDir, startCoordinatorProcess, watchFederation, type Consortium } from '../demo/federation-run';
import { simulateArgs, type TwinHospital } from '../demo/twin/hospitals';
import { streamWearables } from '../demo/twin/stream';
import { siteCli } from '../support/paths';
import { runNode, startNode, stop, type Child } from '../support/processes';
import { writeSitePolicy } from '../support/site-policy';
import { startTamperProxy } from '../support/tamper-proxy';

const HOSPITALS: TwinHospital[] = [
  { name: 'Metro', center: 0, profile: 'urban-teaching', seed: 7 },
  { name: 'Oncology', center: 1, profile: 'oncology-center', seed: 8 },
  // Secure aggregation needs a cohort of at least three sites.
  { name: 'Lakeside', center: 2, profile: 'suburban-community', seed: 9 },
];
const FORBIDDEN = [
  /MRN-\d{5}/,
  ...SIM_NAMED_PATIENTS.flatMap((p) => [new RegExp(`\\b${p.given}\\b`), new RegExp(`\\b${p.family}\\b`)]),
];

/** Every file below a directory. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * The twin scenario across processes with every site → coordinator request captured by a proxy and every
 * process's log lines (at debug level) kept: no hospital patient id or name may appear in either.
 */
describe('digital twins end to end', () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-twins-e2e-'));
  const children: Child[] = [];
  afterAll(async () => {
    await Promise.all(children.map((c) => stop(c)));
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  test('ingest, stream, federate, score and report: hospital ids and names never leave the site', async () => {
    const bodies: string[] = [];
    const coord = await startCoordinatorProcess({ dataDir: path.join(workDir, 'coordinator'), logLevel: 'debug' });
    children.push(coord.child);
    const proxy = await startTamperProxy({
      target: coord.url,
      tamper: () => null,
      onRequest: (r) => bodies.push(`${r.method} ${r.path}\n${r.body.toString('latin1')}`),
    });
    const admin = createAdminClient({ baseUrl: coord.url, token: coord.token });
    const logs: string[] = [];
    const site = async (args: string[], name: string) => {
      const lines = await runNode({
        name,
        script: siteCli(),
        args: ['--json', ...args],
        env: { TWINFED_LOG_LEVEL: 'debug' },
        timeoutMs: 120_000,
      });
      logs.push(...lines);
      return lines.map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
    };
    let fhirText = '';
    let at = '';
    const siteIds = new Map<string, string>();
    for (const h of HOSPITALS) {
      const sim = (await site(simulateArgs({ workDir, hospital: h, patients: 120 }), `simulate ${h.name}`)).find(
        (l) => l.type === 'simulated',
      )!;
      at = String(sim.at);
      fhirText += fs.readFileSync(String(sim.fhirFile), 'utf8');
      const inv = await admin.createInvitation({ siteName: h.name });
      const enrolled = (
        await site(
          ['enroll', '--coordinator', proxy.url, '--token', inv.token, '--data-dir', siteDir(workDir, h)],
          `enroll ${h.name}`,
        )
      ).find((l) => typeof l.siteId === 'string')!;
      siteIds.set(h.name, String(enrolled.siteId));
      // Each hospital's policy approves every plan; Oncology also suppresses population cells below its own k = 20.
      writeSitePolicy(siteDir(workDir, h), {
        autoApprove: true,
        ...(h.name === 'Oncology' ? { populationReports: { allowed: true, k: 20 } } : {}),
      });
      const ingest = (
        await site(['ingest', 'fhir', String(sim.fhirFile), '--data-dir', siteDir(workDir, h)], `ingest ${h.name}`)
      ).find((l) => l.type === 'ingest')!;
      expect((ingest.accepted as { patients: number }).patients).toBe(120);
      const serve = startNode({
        name: `serve ${h.name}`,
        script: siteCli(),
        args: ['--json', 'serve', '--listen', '127.0.0.1:0', '--data-dir', siteDir(workDir, h)],
        env: { TWINFED_LOG_LEVEL: 'debug' },
      });
      children.push(serve);
      const api = JSON.parse(await serve.waitForLine(/"localApi"/, 60_000)) as { localApi: string; tokenFile: string };
      const token = fs.readFileSync(api.tokenFile, 'utf8').trim();
      const first = await streamWearables({ file: String(sim.wearableFile), localApi: api.localApi, token });
      expect(first.accepted).toBe(first.samples);
      const again = await streamWearables({ file: String(sim.wearableFile), localApi: api.localApi, token });
      expect(again.duplicates).toBe(again.samples); // idempotent by sample id
      await stop(serve);
      logs.push(...serve.lines);
    }
    // The control: the export itself does carry hospital ids and names, so the search below can find them.
    expect(FORBIDDEN.every((re) => re.test(fhirText))).toBe(true);

    const base = twinScenarioPlan();
    const plan = twinScenarioPlan({
      rounds: 2,
      minSites: 2,
      data: { ...base.data, normalization: 'federated' },
      privacy: { secureAggregation: true },
    });
    const fed = await admin.createFederation(plan);
    const runs = HOSPITALS.map((h) =>
      startNode({
        name: h.name,
        script: siteCli(),
        args: [
          '--json',
          'run',
          '--federation',
          fed.id,
          '--twins',
          '--at',
          at,
          '--no-push',
          '--poll-interval',
          '300',
          '--data-dir',
          siteDir(workDir, h),
        ],
        env: { TWINFED_LOG_LEVEL: 'debug' },
      }),
    );
    children.push(...runs);
    const consortium = { admin, sites: runs, siteIds } as unknown as Consortium;
    const done = await watchFederation(consortium, { federationId: fed.id, timeoutMs: 120_000 });
    expect(done.federation.state).toBe('completed');
    for (const r of runs) expect(await r.exited).toBe(0);
    logs.push(...runs.flatMap((r) => r.lines));

    // Every site reported its population once per version; the view ranks every site.
    const view = await admin.population({ federationId: fed.id });
    expect(view.sites.map((s) => s.siteId).sort()).toEqual([...siteIds.values()].sort());
    for (const s of view.sites) expect(s.versionId).toBe(done.federation.latestVersionId);
    // The plan's k is 10; Oncology's own floor of 20 wins for its report, and nothing it released is below 20.
    expect(plan.data.population?.k).toBe(10);
    const k = Object.fromEntries(view.sites.map((s) => [s.name, s.k]));
    expect(k).toEqual({ Metro: 10, Oncology: 20, Lakeside: 10 });
    const oncology = view.sites.find((s) => s.name === 'Oncology')!;
    for (const c of [oncology.total, oncology.highRisk, ...oncology.byTier.map((t) => t.count)])
      if (c !== null) expect(c).toBeGreaterThanOrEqual(20);

    // Scores with explanations from the verified model, at the site.
    const scores = (
      await site(
        ['score', '--federation', fed.id, '--top', '3', '--at', at, '--data-dir', siteDir(workDir, HOSPITALS[0]!)],
        'score',
      )
    ).find((l) => l.type === 'scores')!;
    const top = scores.scores as Array<{
      pid: string;
      tier: string;
      versionId: string;
      contributions: Array<{ text: string }>;
    }>;
    expect(top).toHaveLength(3);
    expect(top[0]!.versionId).toBe(done.federation.latestVersionId);
    expect(top[0]!.contributions[0]!.text).toMatch(/[+-]\d/);
    // The same scores as FHIR RiskAssessments for the hospital's EHR carry its own patient ids: they stay here
    // (kept out of `logs` on purpose: this output is for the EHR, and the control below shows it has the ids).
    const ehr = await runNode({
      name: 'score fhir',
      script: siteCli(),
      args: [
        'score',
        '--federation',
        fed.id,
        '--top',
        '3',
        '--at',
        at,
        '--format',
        'fhir',
        '--data-dir',
        siteDir(workDir, HOSPITALS[0]!),
      ],
      timeoutMs: 120_000,
    });
    const bundle = JSON.parse(ehr.join('\n')) as {
      entry: { resource: { subject: { identifier: { value: string } } } }[];
    };
    expect(bundle.entry.map((e) => e.resource.subject.identifier.value)).toEqual([
      expect.stringMatching(/^MRN-\d{5}$/),
      expect.stringMatching(/^MRN-\d{5}$/),
      expect.stringMatching(/^MRN-\d{5}$/),
    ]);

    await stop(coord.child);
    logs.push(...coord.child.lines);
    await proxy.close();
    expect(bodies.length).toBeGreaterThan(10);
    expect(logs.length).toBeGreaterThan(50);
    // Nor is any of it in what the coordinator keeps on disk (its SQLite database and every other file).
    const stored = filesUnder(path.join(workDir, 'coordinator')).map((f) => fs.readFileSync(f).toString('latin1'));
    expect(stored.length).toBeGreaterThan(0);
    for (const re of FORBIDDEN) {
      expect(bodies.filter((b) => re.test(b))).toEqual([]);
      expect(logs.filter((l) => re.test(l))).toEqual([]);
      expect(stored.filter((text) => re.test(text))).toEqual([]);
    }
  }, 240_000);
});
