/** Test support for cohort statistics: a clinic CSV with a known number of smokers, its mapping, a query, a policy. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAdminClient, type AdminClient } from '@twinfed/coordinator';
import { startCoordinatorProcess } from '../../demo/federation-run';
import { coordinatorCli } from '../../support/paths';
import { startNode, stop, type Child } from '../../support/processes';

/** Writes `clinic.csv` (40 rows: `smokers` smokers, the rest not; ages 30–69; BMI 20–29.75) and its mapping into `dir`. */
export function writeClinic(dir: string, smokers = 15): { csv: string; mapping: string } {
  fs.mkdirSync(dir, { recursive: true });
  const rows = Array.from({ length: 40 }, (_, i) =>
    [`P-${1000 + i}`, 30 + i, (20 + i / 4).toFixed(2), i < smokers ? 1 : 0, i % 3 === 0 ? 'yes' : 'no'].join(','),
  );
  const csv = path.join(dir, 'clinic.csv');
  fs.writeFileSync(csv, ['Patient ID,Age,BMI,Smoker,Diabetes', ...rows].join('\n') + '\n');
  const mapping = path.join(dir, 'clinic.mapping.json');
  fs.writeFileSync(
    mapping,
    JSON.stringify({
      features: [
        { column: 'Age', name: 'age' },
        { column: 'BMI', name: 'bmi' },
        { column: 'Smoker', name: 'smoker' },
      ],
      label: { column: 'Diabetes', positive: ['yes'], negative: ['no'] },
    }),
  );
  return { csv, mapping };
}

/** Counts by smoking, with BMI means and pooled sums. */
export const SMOKER_QUERY = {
  title: 'Smokers and BMI before the diabetes plan',
  source: { kind: 'csv' },
  groupBy: [{ kind: 'category', feature: 'smoker', values: [0, 1], labels: ['no', 'yes'] }],
  summaries: { features: ['bmi'], statistics: ['mean', 'sd'], pooled: true },
};

/** Writes `<dataDir>/policy.json` with a `cohortQueries` part. */
export function writeCohortPolicy(dataDir: string, cohortQueries: Record<string, unknown>): void {
  fs.writeFileSync(path.join(dataDir, 'policy.json'), JSON.stringify({ cohortQueries }));
}

/** A coordinator process for one test file (started before its tests, stopped after), with a work dir beside it. */
export function suiteCoordinator(prefix: string): {
  readonly work: string;
  readonly url: string;
  readonly token: string;
  readonly admin: AdminClient;
  readonly dataDir: string;
  /** Stops the coordinator now (a test that reads its store afterwards). */
  stop(): Promise<void>;
} {
  let work = '';
  let coordinator: Child | undefined;
  let url = '';
  let token = '';
  let admin: AdminClient | undefined;
  const stopNow = async () => {
    if (coordinator) await stop(coordinator);
    coordinator = undefined;
  };
  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const started = await startCoordinatorProcess({ dataDir: path.join(work, 'coordinator') });
    coordinator = started.child;
    url = started.url;
    token = started.token;
    admin = createAdminClient({ baseUrl: url, token });
  });
  afterAll(async () => {
    await stopNow();
    fs.rmSync(work, { recursive: true, force: true });
  });
  return {
    get work() {
      return work;
    },
    get url() {
      return url;
    },
    get token() {
      return token;
    },
    get admin() {
      return admin!;
    },
    get dataDir() {
      return path.join(work, 'coordinator');
    },
    stop: stopNow,
  };
}

/**
 * A researcher's `twinfed stats query --wait` as its own process (it ends once every site answered, and the pool if
 * there is one); resolves with the process and the query's id once the coordinator has the query.
 */
export async function askAndWait(
  suite: ReturnType<typeof suiteCoordinator>,
  o: { name: string; study: string; query: unknown; timeoutSeconds: number },
): Promise<{ asking: Child; qid: string }> {
  const queryFile = path.join(suite.work, 'query.json');
  fs.writeFileSync(queryFile, JSON.stringify(o.query));
  const asking = startNode({
    name: o.name,
    script: coordinatorCli(),
    args: ['--url', suite.url, '--token', suite.token, '--json', 'stats', 'query', '--study', o.study].concat([
      '--file',
      queryFile,
      '--wait',
      '--timeout',
      String(o.timeoutSeconds),
    ]),
  });
  let qid: string | undefined;
  while (!qid) {
    qid = (await suite.admin.listCohortQueries({ studyId: o.study }))[0]?.id;
    if (!qid) await new Promise((r) => setTimeout(r, 50));
  }
  return { asking, qid };
}
