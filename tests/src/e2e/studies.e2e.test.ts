/**
 * Issue 13, studies, across processes: a coordinator process, the operator CLI (`twinfed`) and a site CLI
 * (`twinfed-site enroll`) each in their own process. A researcher token scoped to study A cannot see study B anywhere:
 * not through the API (B's federation, versions and study answer as missing ones; lists hold none of B) and not
 * through the CLI; the operator sees both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { routes } from '@twinfed/shared';
import { startCoordinatorProcess } from '../demo/federation-run';
import { coordinatorCli, siteCli } from '../support/paths';
import { jsonLine, runNode, startNode, stop, type Child } from '../support/processes';

describe('studies scope researchers, across processes', () => {
  let work: string;
  let coordinator: Child;
  let url: string;
  let operatorToken: string;

  /** `twinfed --url … --token … <args>` in its own process: exit code and output lines. */
  const twinfed = async (token: string, ...args: string[]) => {
    const child = startNode({
      name: `twinfed ${args.join(' ')}`,
      script: coordinatorCli(),
      args: ['--url', url, '--token', token, ...args],
    });
    const code = await child.exited;
    return { code, lines: child.lines, text: child.lines.join('\n') };
  };
  /** The one JSON line of a `--json` command that succeeded. */
  const jsonOf = async <T>(token: string, ...args: string[]): Promise<T> => {
    const r = await twinfed(token, '--json', ...args);
    if (r.code !== 0) throw new Error(`twinfed ${args.join(' ')} failed (${r.code}):\n${r.text}`);
    return JSON.parse(r.lines.find((l) => l.startsWith('{') || l.startsWith('['))!) as T;
  };
  const enroll = async (name: string) => {
    const inv = await jsonOf<{ token: string }>(operatorToken, 'sites', 'invite', name);
    const lines = await runNode({
      name: `enroll ${name}`,
      script: siteCli(),
      args: ['--json', 'enroll', '--coordinator', url, '--token', inv.token, '--data-dir', path.join(work, name)],
    });
    return String(lines.map(jsonLine).find((j) => j && typeof j.siteId === 'string')!.siteId);
  };

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-e2e-studies-'));
    const started = await startCoordinatorProcess({ dataDir: path.join(work, 'coordinator') });
    coordinator = started.child;
    url = started.url;
    operatorToken = started.token;
  }, 60_000);
  afterAll(async () => {
    if (coordinator) await stop(coordinator);
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a researcher of study A sees nothing of study B through the API or the CLI; the operator sees both', async () => {
    const planFile = path.join(work, 'plan.json');
    fs.writeFileSync(
      planFile,
      JSON.stringify({
        name: 'scoped',
        model: { kind: 'logistic-regression', inputs: 2 },
        data: { features: ['age', 'chol'] },
        strategy: { name: 'fedavg' },
        training: { steps: 5 },
        rounds: 2,
        minSites: 1,
        roundDeadlineSeconds: 600,
      }),
    );
    const a = { study: '', fid: '', vid: '', site: '' };
    const b = { study: '', fid: '', vid: '', site: '' };
    a.study = (
      await jsonOf<{ id: string }>(operatorToken, 'studies', 'create', 'Heart study', '--description', 'A')
    ).id;
    b.study = (await jsonOf<{ id: string }>(operatorToken, 'studies', 'create', 'Oncology study')).id;
    // Alpha enrolls before both federations (it takes part in both), Omega only before B's.
    a.site = await enroll('Alpha Hospital');
    const fedA = await jsonOf<{ id: string; latestVersionId: string; studyId: string }>(
      operatorToken,
      'federations',
      'create',
      '--plan',
      planFile,
      '--study',
      a.study,
    );
    expect(fedA.studyId).toBe(a.study);
    [a.fid, a.vid] = [fedA.id, fedA.latestVersionId];
    b.site = await enroll('Omega Clinic');
    const fedB = await jsonOf<{ id: string; latestVersionId: string }>(
      operatorToken,
      'federations',
      'create',
      '--plan',
      planFile,
      '--study',
      b.study,
    );
    [b.fid, b.vid] = [fedB.id, fedB.latestVersionId];
    const researcher = (
      await jsonOf<{ token: string; studies: string[] }>(
        operatorToken,
        'tokens',
        'create',
        'Dr Ada',
        '--study',
        a.study,
      )
    ).token;
    const bIds = [b.study, b.fid, b.vid, b.site];
    const noneOfB = (text: string) => expect(bIds.filter((id) => text.includes(id))).toEqual([]);

    // API: every reader route that names B's federation, version or study answers exactly as for a missing one.
    const get = async (token: string, p: string) => {
      const res = await fetch(url + p, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()).toString('latin1') };
    };
    const named: Array<[string, string, string]> = [
      [routes.federation(b.fid), routes.federation(a.fid), routes.federation('fed-none')],
      [routes.rounds(b.fid), routes.rounds(a.fid), routes.rounds('fed-none')],
      [
        routes.federationEvaluations(b.fid),
        routes.federationEvaluations(a.fid),
        routes.federationEvaluations('fed-none'),
      ],
      [routes.model(b.vid), routes.model(a.vid), routes.model('fed-none.v0')],
      [routes.modelWeights(b.vid), routes.modelWeights(a.vid), routes.modelWeights('fed-none.v0')],
      [routes.modelEvaluations(b.vid), routes.modelEvaluations(a.vid), routes.modelEvaluations('fed-none.v0')],
      [routes.study(b.study), routes.study(a.study), routes.study('study-none')],
    ];
    for (const [theirs, mine, missing] of named) {
      expect((await get(researcher, mine)).status).toBe(200);
      const answer = await get(researcher, theirs);
      expect(answer.status).toBe(404);
      expect(answer).toEqual(await get(researcher, missing));
      expect((await get(operatorToken, theirs)).status).toBe(200);
    }
    for (const list of [routes.federations, routes.models, routes.population, routes.adminSites, routes.studies]) {
      const { status, body } = await get(researcher, list);
      expect(status).toBe(200);
      noneOfB(body);
    }
    expect((await get(operatorToken, routes.federations)).body).toContain(b.fid);

    // CLI, run with the researcher's token.
    const feds = await jsonOf<Array<{ id: string }>>(researcher, 'federations', 'status');
    expect(feds.map((f) => f.id)).toEqual([a.fid]);
    const studies = await jsonOf<Array<{ id: string }>>(researcher, 'studies', 'list');
    expect(studies.map((s) => s.id)).toEqual([a.study]);
    const sites = await jsonOf<Array<{ id: string }>>(researcher, 'sites', 'list');
    expect(sites.map((s) => s.id)).toEqual([a.site]);
    const models = await jsonOf<Array<{ id: string }>>(researcher, 'models', 'list');
    expect(models.map((m) => m.id)).toEqual([a.vid]);
    for (const args of [
      ['federations', 'status'],
      ['models', 'list'],
      ['studies', 'list'],
      ['sites', 'list'],
      ['population'],
    ])
      noneOfB((await twinfed(researcher, ...args)).text);
    const refused = await twinfed(researcher, 'federations', 'status', b.fid);
    expect(refused.code).toBe(1);
    expect(refused.text).toBe('twinfed: The federation does not exist. (UNKNOWN_FEDERATION)');
    const version = await twinfed(researcher, 'models', 'show', b.vid);
    expect(version.code).toBe(1);
    expect(version.text).toBe('twinfed: The model version does not exist. (UNKNOWN_MODEL_VERSION)');
    noneOfB((await twinfed(researcher, '--json', 'population', '--federation', b.fid)).text.replaceAll(b.fid, ''));
    const exported = await twinfed(researcher, 'models', 'export', b.vid, '--out', path.join(work, 'bundle'));
    expect(exported.code).toBe(1);
    expect(fs.existsSync(path.join(work, 'bundle'))).toBe(false);

    // The operator's CLI sees both studies' federations.
    const all = await jsonOf<Array<{ id: string; studyId: string }>>(operatorToken, 'federations', 'status');
    expect(all.map((f) => [f.id, f.studyId])).toEqual([
      [a.fid, a.study],
      [b.fid, b.study],
    ]);
  }, 120_000);
});
