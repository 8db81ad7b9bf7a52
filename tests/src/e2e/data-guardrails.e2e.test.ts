/**
 * A site refused by its data guardrails sends nothing to a real coordinator: no normalisation statistics, no
 * update, no evaluation. It exits 1 with one line naming the problem instead of waiting in silence.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { routes } from '@twinfed/shared';
import { runCli, type CliDeps } from '@twinfed/site-client';
import { operator, startTestCoordinator } from '@twinfed/coordinator/__tests__/harness';
import { repoRoot } from '../support/paths';
import { cliIo } from '../support/cli-io';

const site = (args: string[], deps: CliDeps) => runCli(['node', 'twinfed-site', ...args], deps);

describe('data guardrails against a real coordinator', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  let work: string;
  beforeAll(async () => {
    c = await startTestCoordinator();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-guardrails-'));
  });
  afterAll(async () => {
    await c?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('a single-class site and a too-small site both exit 1; the coordinator received no statistics, update or evaluation', async () => {
    const root = repoRoot();
    // The shipped CSV example (federated normalisation, so a site's first contribution would be its statistics), asking for 30 training rows.
    const example = JSON.parse(fs.readFileSync(path.join(root, 'examples/plans/csv-clinic-fedavg.json'), 'utf8')) as {
      data: object;
    };
    const plan = { ...example, data: { ...example.data, minExamplesPerSite: 30 } };
    // The sites enroll first: they are the federation's founding cohort (members may read its plan).
    const dirs: string[] = [];
    for (const name of ['Single Class Clinic', 'Small Clinic']) {
      const inv = (await (await operator(c, 'POST', routes.invitations, { siteName: name })).json()) as {
        token: string;
      };
      const dir = path.join(work, name.replace(/ /g, '-'));
      const e = cliIo();
      expect(await site(['enroll', '--coordinator', c.url, '--token', inv.token, '--data-dir', dir], e.deps)).toBe(0);
      dirs.push(dir);
    }
    const created = await operator(c, 'POST', routes.federations, { plan });
    expect(created.status).toBe(201);
    const fid = ((await created.json()) as { id: string }).id;
    const data = path.join(root, 'examples/data/clinic-a.csv');
    const good = path.join(root, 'examples/plans/csv-clinic-fedavg.mapping.json');
    const wrong = path.join(work, 'wrong-label.mapping.json');
    // "Diabetes" (capitalised) is not a value of the column: every row reads as negative.
    fs.writeFileSync(
      wrong,
      JSON.stringify({
        ...JSON.parse(fs.readFileSync(good, 'utf8')),
        label: { column: 'Diagnosis', positive: ['Diabetes'] },
      }),
    );
    const run = (dir: string, mapping: string) => [
      'run',
      '--federation',
      fid,
      '--data',
      data,
      '--mapping',
      mapping,
      '--data-dir',
      dir,
      '--no-push',
      '--poll-interval',
      '50',
    ];

    // Each hospital approved the plan (by hand): the guardrails, not the approval, stop them.
    for (const dir of dirs) {
      const approve = cliIo();
      expect(await site(['plans', 'approve', fid, '--by', 'data steward', '--data-dir', dir], approve.deps)).toBe(0);
      expect(approve.out()).toMatch(/^Approved: the plan [0-9a-f]{12}… of /);
    }

    const single = cliIo();
    expect(await site(run(dirs[0]!, wrong), single.deps)).toBe(1);
    expect(single.err()).toMatch(
      /error: The label column "Diagnosis" gives a single class: 0 positive and 40 negative rows\. Values found: "none" ×20, "diabetes" ×16, "T2D" ×4\. Positive values looked for: "Diabetes".*\[DATA_SINGLE_CLASS\]/,
    );

    const small = cliIo();
    expect(await site(run(dirs[1]!, good), small.deps)).toBe(1);
    expect(small.err()).toMatch(
      /error: This site has 25 training rows .*data\.minExamplesPerSite is 30.*\[DATA_TOO_FEW_ROWS\]/,
    );

    // Nothing from either site reached the coordinator.
    const rounds = (await (await operator(c, 'GET', routes.rounds(fid))).json()) as
      Array<{ received: number }> | { rounds: Array<{ received: number }> };
    const list = Array.isArray(rounds) ? rounds : rounds.rounds;
    expect(list.every((r) => r.received === 0)).toBe(true);
    const audit = (await (await operator(c, 'GET', `${routes.audit}?limit=200`)).json()) as {
      entries: Array<{ action: string }>;
    };
    expect(audit.entries.map((e) => e.action)).not.toContain('stats.contribute');
    expect(audit.entries.map((e) => e.action)).toContain('site.enroll'); // the audit log does see the sites
    const models = (await (await operator(c, 'GET', routes.models)).json()) as
      Array<{ id: string }> | { versions?: Array<{ id: string }>; models?: Array<{ id: string }> };
    const versions = Array.isArray(models) ? models : (models.versions ?? models.models ?? []);
    for (const v of versions) {
      const evals = (await (await operator(c, 'GET', routes.modelEvaluations(v.id))).json()) as {
        evaluations: unknown[];
      };
      expect(evals.evaluations).toEqual([]);
    }
    const fed = (await (await operator(c, 'GET', routes.federation(fid))).json()) as {
      state: string;
      latestVersionId: string | null;
    };
    expect(fed.state).toBe('running');
  });
});
