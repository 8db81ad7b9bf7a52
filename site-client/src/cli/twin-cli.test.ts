import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { coordinatorFetch } from '../__tests__/coordinator-fetch';
import { FakeCoordinator } from '../__tests__/fake-coordinator';
import { cli, enrollArgs, io } from '../__tests__/cli';
import { fhirSchemaErrors } from '../__tests__/fhir-schema';
import { loadEnrollment } from '../identity/load';
import { SIM_NAMED_PATIENTS } from '../simulate/people';
import { twinScenarioPlan } from '../simulate/plan';
import { openTwinStore } from '../twins/store';
import type { CliDeps } from './context';
/** The parts of a RiskAssessment these tests read. */
interface RiskAssessmentJson {
  subject: { identifier: { value: string } };
  method: { coding: { code: string }[] };
  prediction: { probabilityDecimal: number }[];
  note: { text: string }[];
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-twin-cli-'));

describe('twinfed-site twin commands', () => {
  test('simulate → ingest → run --twins → score → serve; no request the site sends holds a hospital id or a name', async () => {
    const work = tmp();
    const dataDir = path.join(work, 'site');
    // simulate
    const sim = io();
    expect(
      await cli(
        [
          '--json',
          'simulate',
          '--patients',
          '80',
          '--hospital',
          'urban-teaching',
          '--seed',
          '5',
          '--out',
          path.join(work, 'sim'),
          '--days',
          '21',
          '--batch-size',
          '30',
        ],
        sim.deps,
      ),
    ).toBe(0);
    const simulated = sim.lines()[0]!;
    expect(simulated).toMatchObject({
      type: 'simulated',
      profile: 'urban-teaching',
      patients: 80,
      documentedPrevalence: [0.055, 0.11],
      at: '2025-01-22T00:00:00.000Z',
    });
    const fhirText = fs.readFileSync(String(simulated.fhirFile), 'utf8');
    expect(fhirText).toContain('MRN-00042'); // the hospital's own ids are in its export…
    expect(fhirText).toContain('"family":"Doe"');
    const batches = fs
      .readFileSync(String(simulated.wearableFile), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { samples: unknown[] });
    expect(batches.every((b) => b.samples.length <= 30)).toBe(true);
    // enroll, then ingest
    const c = new FakeCoordinator(twinScenarioPlan({ rounds: 2, minSites: 1 }));
    const coord = coordinatorFetch(c);
    expect(await cli(enrollArgs(dataDir), io({ fetch: coord.fetch }).deps)).toBe(0);
    c.trust(loadEnrollment(dataDir));
    const ing = io();
    expect(
      await cli(['--json', 'ingest', 'fhir', String(simulated.fhirFile), '--data-dir', dataDir, '--strict'], ing.deps),
    ).toBe(0);
    const report = ing.lines()[0]!;
    expect(report).toMatchObject({ type: 'ingest', format: 'fhir', rejectedCount: 0, accepted: { patients: 80 } });
    expect(JSON.stringify(report)).not.toMatch(/MRN-\d{5}|Doe/);
    // a person approves the plan (without a policy file nothing is approved without a person)
    const approve = io({ fetch: coord.fetch });
    expect(
      await cli(
        ['plans', 'approve', 'fed-1', '--by', 'Dr. Lee', '--note', 'IRB 2025-04', '--data-dir', dataDir],
        approve.deps,
      ),
    ).toBe(0);
    expect(approve.out()).toMatch(/^Approved: the plan [0-9a-f]{12}… of fed-1, by Dr\. Lee on \S+ \("IRB 2025-04"\)/);
    // run over the twin store, with the local API
    const run = io({ fetch: coord.fetch });
    const code = await cli(
      [
        '--json',
        'run',
        '--federation',
        'fed-1',
        '--twins',
        '--at',
        String(simulated.at),
        '--listen',
        '127.0.0.1:0',
        '--data-dir',
        dataDir,
        '--no-push',
        '--poll-interval',
        '50',
        '--backend',
        'cpu',
      ],
      run.deps,
    );
    expect(run.err()).toBe('');
    expect(code).toBe(0);
    const events = run.lines();
    expect(events[0]).toMatchObject({
      type: 'local-api',
      localApi: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(events[1]).toMatchObject({
      type: 'data',
      source: 'twin store',
      patients: 80,
      at: '2025-01-22T00:00:00.000Z',
    });
    expect(events.filter((e) => e.type === 'uploaded')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'population').map((e) => [e.versionId, e.status])).toEqual([
      ['v1', 'sent'],
      ['v2', 'sent'],
    ]);
    expect(events[events.length - 1]).toMatchObject({ type: 'done', state: 'completed' });
    // one report per version, k-anonymous
    expect(coord.populationReports.map((r) => r.versionId)).toEqual(['v1', 'v2']);
    for (const r of coord.populationReports) {
      expect(r.k).toBe(10);
      for (const cell of r.cells) if (cell.count !== null) expect(cell.count).toBeGreaterThanOrEqual(10);
    }
    // score from the stored, re-verified model
    const scored = io();
    expect(await cli(['--json', 'score', '--top', '5', '--data-dir', dataDir], scored.deps)).toBe(0);
    const scores = scored.lines()[0] as {
      versionId: string;
      at: string;
      scores: { pid: string; tier: string; contributions: { text: string }[] }[];
    };
    expect(scores).toMatchObject({
      type: 'scores',
      federationId: 'fed-1',
      versionId: 'v2',
      at: '2025-01-22T00:00:00.000Z',
    });
    expect(scores.scores).toHaveLength(5);
    expect(scores.scores[0]!.contributions).toHaveLength(3);
    const jane = io({ env: { USER: 'dr.lee' } });
    expect(await cli(['score', '--patient', 'MRN-00042', '--data-dir', dataDir], jane.deps)).toBe(0);
    expect(jane.out()).toContain('do not replace clinical judgement');
    expect(jane.out()).toMatch(
      /Patient MRN-00042 \(this lookup is audited\):\n {2}1\. twin [0-9a-f]{12}… {2}score \d\.\d\d {2}(low|medium|high)\n {7}\S/,
    );
    // the same scores as FHIR R4 RiskAssessments for the EHR: the hospital's own ids, resolved here and audited
    const mrnSystem = 'urn:oid:2.16.840.1.113883.19.5';
    const fhir = io({ env: { USER: 'dr.lee' } });
    const fhirArgs = ['score', '--top', '3', '--format', 'fhir', '--patient-system', mrnSystem, '--data-dir', dataDir];
    expect(await cli(fhirArgs, fhir.deps)).toBe(0);
    const bundle = JSON.parse(fhir.out()) as { type: string; entry: { resource: RiskAssessmentJson }[] };
    expect(fhirSchemaErrors(bundle)).toEqual([]);
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry.map((e) => e.resource.prediction[0]!.probabilityDecimal)).toEqual(
      scores.scores.slice(0, 3).map((x) => Number((x as unknown as { score: number }).score.toFixed(6))),
    );
    for (const { resource } of bundle.entry) {
      expect(resource.subject).toEqual({
        type: 'Patient',
        identifier: { system: mrnSystem, value: expect.stringMatching(/^MRN-\d{5}$/) },
      });
      expect(resource.method.coding[0]!.code).toBe('v2');
      expect(resource.note[0]!.text).toMatch(/^Main contributions \(weight × value, in log-odds\): .*[+-]\d/);
    }
    const shap = io();
    expect(await cli(['--json', 'score', '--top', '2', '--explain', 'shapley', '--data-dir', dataDir], shap.deps)).toBe(
      0,
    );
    const shapScores = (shap.lines()[0] as { scores: { explainedBy: string; contributions: unknown[] }[] }).scores;
    expect(shapScores.map((x) => [x.explainedBy, x.contributions.length])).toEqual([
      ['shapley', 3],
      ['shapley', 3],
    ]);
    const badExplain = io();
    expect(await cli(['score', '--explain', 'lime', '--data-dir', dataDir], badExplain.deps)).not.toBe(0);
    expect(badExplain.err()).toMatch(/--explain <method>.*lime/);
    const one = io({ env: { USER: 'dr.lee' } });
    expect(await cli(['score', '--patient', 'MRN-00042', '--format', 'fhir', '--data-dir', dataDir], one.deps)).toBe(0);
    const single = JSON.parse(one.out()) as RiskAssessmentJson;
    expect(fhirSchemaErrors(single)).toEqual([]);
    expect(single.subject).toEqual({ type: 'Patient', identifier: { value: 'MRN-00042' } });
    // serve: the wearable stream lands, duplicates are counted, scores are served by pid
    let stop: () => void = () => undefined;
    let announced: (url: string) => void = () => undefined;
    const url = new Promise<string>((r) => (announced = r));
    const out: string[] = [];
    const serveDeps: CliDeps = {
      env: {},
      stdout: {
        write: (s: string) => (
          out.push(s),
          s.includes('"localApi"') && announced(String((JSON.parse(s) as { localApi: string }).localApi))
        ),
      },
      stderr: { write: () => undefined },
      onInterrupt: (h) => ((stop = h), () => undefined),
    };
    const serving = cli(
      ['--json', 'serve', '--listen', '127.0.0.1:0', '--patient-system', mrnSystem, '--data-dir', dataDir],
      serveDeps,
    );
    const base = await url;
    const token = fs.readFileSync(path.join(dataDir, 'local-api.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const body = JSON.stringify(batches[0]);
    const first = (await (await fetch(`${base}/v1/observations`, { method: 'POST', headers, body })).json()) as {
      accepted: number;
    };
    expect(first).toEqual({ accepted: batches[0]!.samples.length, duplicates: 0, rejected: [] });
    const again = (await (await fetch(`${base}/v1/observations`, { method: 'POST', headers, body })).json()) as {
      duplicates: number;
    };
    expect(again).toEqual({ accepted: 0, duplicates: batches[0]!.samples.length, rejected: [] });
    const top = await (await fetch(`${base}/v1/scores?top=3`, { headers })).text();
    expect(JSON.parse(top)).toMatchObject({
      versionId: 'v2',
      scores: [{ pid: expect.stringMatching(/^[0-9a-f]{64}$/) }, {}, {}],
    });
    expect(top).not.toMatch(/MRN-\d{5}/);
    const asFhir = await fetch(`${base}/v1/scores?top=2&format=fhir`, { headers });
    expect(asFhir.headers.get('content-type')).toBe('application/fhir+json; charset=utf-8');
    const apiBundle = (await asFhir.json()) as { entry: { resource: RiskAssessmentJson }[] };
    expect(fhirSchemaErrors(apiBundle)).toEqual([]);
    expect(apiBundle.entry).toHaveLength(2);
    expect(apiBundle.entry[0]!.resource.subject.identifier).toEqual({
      system: mrnSystem,
      value: expect.stringMatching(/^MRN-\d{5}$/),
    });
    stop();
    expect(await serving).toBe(0);
    expect(out.join('')).toContain('"type":"model"');
    // the audit shows the score lookup by hospital id; no hospital id or name was ever sent to the coordinator
    const store = await openTwinStore({ dataDir });
    const pid = store.pidFor('MRN-00042');
    expect((await store.listAudit({ pid })).filter((a) => a.action === 'hospital-id-resolved')).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ actor: 'dr.lee' }) }),
      expect.objectContaining({ detail: expect.objectContaining({ actor: 'dr.lee' }) }),
      expect.objectContaining({
        detail: expect.objectContaining({ actor: 'dr.lee', reason: 'twinfed-site score --format fhir' }),
      }),
    ]);
    await store.close();
    expect(coord.requests.length).toBeGreaterThan(10);
    const sent = coord.requests.map((r) => `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`).join('\n');
    for (const named of SIM_NAMED_PATIENTS)
      for (const secret of [named.mrn, named.given, named.family, `${named.given} ${named.family}`])
        expect(sent).not.toContain(secret);
    expect(sent).not.toMatch(/MRN-\d{5}/);
    expect(sent).not.toContain(pid); // not even pseudonymous ids leave the site
    expect(sent).not.toMatch(/Dr\. Lee|IRB 2025-04/); // nor who approved the plan, nor why
  }, 60_000);

  test('ingest csv: counts, rejections by line without identifiers in --json, idempotent, --strict exit status', async () => {
    const work = tmp();
    const dataDir = path.join(work, 'site');
    const csv = path.join(work, 'vitals.csv');
    const mapping = path.join(work, 'mapping.json');
    fs.writeFileSync(
      csv,
      [
        'mrn,dob,taken_at,hr,consent',
        'MRN-00042,1950-02-03,2024-03-01T08:00:00Z,72,yes',
        'MRN-00042,1950-02-03,2024-03-02T08:00:00Z,abc,',
        'MRN-00043,1960-01-01,2024-03-01T08:00:00Z,64,no',
      ].join('\n'),
    );
    fs.writeFileSync(
      mapping,
      JSON.stringify({
        patient: { idColumn: 'mrn', birthDateColumn: 'dob' },
        timeColumn: 'taken_at',
        observations: [{ column: 'hr', code: '8867-4', unit: '/min' }],
        consent: [{ column: 'consent', purpose: 'model-training' }],
      }),
    );
    const first = io();
    const rejects = path.join(work, 'rejects.ndjson');
    expect(
      await cli(
        ['--json', 'ingest', 'csv', csv, '--mapping', mapping, '--data-dir', dataDir, '--strict', '--rejects', rejects],
        first.deps,
      ),
    ).toBe(2);
    expect(
      fs
        .readFileSync(rejects, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ line: 3, column: 'hr', reason: expect.stringMatching(/^hr: /) }]);
    expect(fs.readFileSync(rejects, 'utf8')).not.toMatch(/MRN|1950/);
    const r = first.lines()[0]!;
    expect(r).toMatchObject({
      type: 'ingest',
      format: 'csv',
      accepted: { patients: 2, observations: 2, consents: 2 },
      rejectedCount: 1,
      rejected: [{ line: 3, path: 'hr', reason: expect.any(String) }],
    });
    expect(first.out()).not.toContain('MRN-000');
    const again = io();
    expect(await cli(['ingest', 'csv', csv, '--mapping', mapping, '--data-dir', dataDir], again.deps)).toBe(0);
    expect(again.out()).toMatch(
      /: 0 patients, 0 observations, .* written \(0 updated\); 6 already stored; 1 rejected\.\n {2}rejected line 3: Observation hr: /,
    );
  });

  test('help explains the new commands to a newcomer', async () => {
    const top = io();
    expect(await cli(['--help'], top.deps)).toBe(0);
    for (const word of ['simulate', 'ingest', 'score', 'serve', 'run --federation <id> --twins'])
      expect(top.out()).toContain(word);
    const help = async (args: string[]) => {
      const t = io();
      expect(await cli([...args, '--help'], t.deps)).toBe(0);
      return t.out().replace(/\s+/g, ' ');
    };
    expect(await help(['score'])).toContain('support clinicians; they do not replace clinical judgement');
    expect(await help(['score'])).toContain('--patient <hospital-id>');
    expect(await help(['score'])).toMatch(/--explain <method>[\s\S]*--format <format>[\s\S]*fhir/);
    expect(await help(['simulate'])).toMatch(/rural-elderly .*Fahrenheit/);
    expect(await help(['ingest', 'fhir'])).toContain('<file...>');
    expect(await help(['ingest'])).toContain('may be shared off-site');
    expect(await help(['ingest', 'csv'])).toContain('--mapping <json>');
    expect(await help(['serve'])).toContain('local-api.token');
    expect(await help(['run'])).toMatch(/--twins .*--at <instant> .*--listen \[host:port\]/);
  });

  test('errors are one line with a code and a non-zero exit', async () => {
    const dir = path.join(tmp(), 'site');
    const cases: Array<[string[], RegExp]> = [
      [['score', '--data-dir', dir], /^error: This site is not enrolled: .* \[UNKNOWN_SITE\]\n$/],
      [
        ['run', '--federation', 'f', '--listen', '--data-dir', dir],
        /^error: --at and --listen go with --twins\. \[CONFIG_INVALID\]\n$/,
      ],
      [
        ['ingest', 'fhir', path.join(dir, 'missing.ndjson'), '--data-dir', dir],
        /^error: Cannot read .*missing\.ndjson: ENOENT\. \[BAD_REQUEST\]\n$/,
      ],
      [
        ['simulate', '--patients', '5', '--hospital', 'nowhere', '--seed', '1', '--out', dir],
        /argument 'nowhere' is invalid/,
      ],
      [
        ['simulate', '--patients', '5', '--hospital', 'rural-elderly', '--seed', '1', '--out', dir, '--days', '3'],
        /days must be an integer of at least 14/,
      ],
      [['ingest', 'csv', 'x.csv'], /required option '--mapping <json>'/],
      [['serve', '--listen', 'nope:port'], /give host:port/],
    ];
    for (const [args, pattern] of cases) {
      const t = io();
      expect(await cli(args, t.deps)).toBe(1);
      expect(t.err()).toMatch(pattern);
    }
    // the twin store is empty: run --twins says what to do
    const c = new FakeCoordinator(twinScenarioPlan());
    const coord = coordinatorFetch(c);
    expect(
      await cli(
        ['enroll', '--coordinator', 'https://coord.test', '--token', 'tok-0123456789abcdef', '--data-dir', dir],
        io({ fetch: coord.fetch }).deps,
      ),
    ).toBe(0);
    const empty = io({ fetch: coord.fetch });
    expect(await cli(['run', '--federation', 'fed-1', '--twins', '--data-dir', dir], empty.deps)).toBe(1);
    expect(empty.err()).toBe(
      'error: The twin store is empty: load patients first with `twinfed-site ingest fhir <file>`. [CONFIG_INVALID]\n',
    );
    const none = io();
    expect(await cli(['score', '--data-dir', dir], none.deps)).toBe(1);
    expect(none.err()).toMatch(/^error: No verified model is stored yet: .* \[NOT_FOUND\]\n$/);
  });
});
