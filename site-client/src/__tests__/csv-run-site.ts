/** Test support: a site enrolled against the fake coordinator, with a CSV and its mapping, ready for `twinfed-site run`. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Plan } from '@twinfed/shared';
import { loadEnrollment } from '../identity/load';
import { cli, enrollArgs, io } from './cli';
import { coordinatorFetch } from './coordinator-fetch';
import { FakeCoordinator } from './fake-coordinator';

/**
 * An enrolled site directory (https://coord.test: the fake behind a recording fetch, its enrollment requests cleared),
 * a CSV `age,chol,thalach,class` of `n` rows from `row`, its mapping with `label`, and the `run` arguments over them.
 */
export async function csvRunSite(o: {
  plan: Plan;
  prefix: string;
  n: number;
  row: (i: number) => string;
  label: unknown;
}) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `twinfed-${o.prefix}-`));
  const dataDir = path.join(work, 'site');
  const c = new FakeCoordinator(o.plan);
  const coord = coordinatorFetch(c);
  expect(await cli(enrollArgs(dataDir), io({ fetch: coord.fetch }).deps)).toBe(0);
  c.trust(loadEnrollment(dataDir));
  coord.requests.length = 0;
  const csv = path.join(work, 'data.csv');
  fs.writeFileSync(csv, ['age,chol,thalach,class', ...Array.from({ length: o.n }, (_, i) => o.row(i))].join('\n'));
  const mapping = path.join(work, 'mapping.json');
  fs.writeFileSync(
    mapping,
    JSON.stringify({ features: ['age', 'chol', 'thalach'].map((x) => ({ column: x, name: x })), label: o.label }),
  );
  const args = ['run', '--federation', 'fed-1', '--data', csv, '--mapping', mapping, '--data-dir', dataDir];
  return { c, coord, args: [...args, '--no-push', '--poll-interval', '50'], dataDir, work };
}
