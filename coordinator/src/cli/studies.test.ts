import { startTestCoordinator } from '../__tests__/harness';
import { run, writePlanFile, GOOD_PLAN } from './__tests__/harness';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

type Coord = Awaited<ReturnType<typeof startTestCoordinator>>;

describe('twinfed studies, federations --study, tokens --study (against a real coordinator)', () => {
  let c: Coord;
  let dir: string;
  beforeAll(async () => {
    c = await startTestCoordinator();
    dir = await mkdtemp(path.join(os.tmpdir(), 'twinfed-cli-studies-'));
  });
  afterAll(async () => {
    await c.close();
    await rm(dir, { recursive: true, force: true });
  });
  const op = (...args: string[]) => run(['--url', c.url, '--token', c.operatorToken, ...args]);
  const as = (token: string, ...args: string[]) => run(['--url', c.url, '--token', token, ...args]);
  const idOf = (stdout: string, key: string) => new RegExp(`^${key}:\\s+(\\S+)$`, 'm').exec(stdout)?.[1];

  test('an operator creates studies and federations in them; a researcher token of one study sees only that study', async () => {
    const a = await op('studies', 'create', 'Heart 2026', '--description', 'Fed-Heart-Disease cohorts');
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    const studyA = idOf(a.stdout, 'study')!;
    expect(studyA).toMatch(/^study-heart-2026-/);
    expect(a.stdout).toMatch(/^description:\s+Fed-Heart-Disease cohorts$/m);
    const studyB = idOf((await op('studies', 'create', 'Sepsis')).stdout, 'study')!;

    const listed = await op('studies', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+DESCRIPTION\s+CREATED$/);
    for (const id of ['default', studyA, studyB]) expect(listed.stdout).toContain(id);

    const plan = await writePlanFile(dir, GOOD_PLAN);
    const fedA = await op('--json', 'federations', 'create', '--plan', plan, '--study', studyA);
    expect(fedA.code).toBe(0);
    const fidA = (JSON.parse(fedA.stdout) as { id: string; studyId: string }).id;
    expect((JSON.parse(fedA.stdout) as { studyId: string }).studyId).toBe(studyA);
    const fedB = await op('federations', 'create', '--plan', plan, '--study', studyB);
    expect(fedB.stdout).toContain(`in study ${studyB}`);
    const fidB = /^Created federation (\S+)/.exec(fedB.stdout)![1]!;

    const table = await op('federations', 'status');
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+STUDY\s+STATE/);
    expect(table.stdout).toMatch(new RegExp(`^${fidB}\\s+\\S+\\s+${studyB}\\s`, 'm'));
    expect((await op('federations', 'status', fidA)).stdout).toMatch(new RegExp(`^study:\\s+${studyA}$`, 'm'));

    const token = await op('tokens', 'create', 'Dr Ada', '--study', studyA);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(new RegExp(`^studies:\\s+${studyA}$`, 'm'));
    const researcher = idOf(token.stdout, 'token')!;
    const tokens = await op('tokens', 'list');
    expect(tokens.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+ROLE\s+STUDIES\s+STATUS/);
    expect(tokens.stdout).toMatch(new RegExp(`Dr Ada\\s+researcher\\s+${studyA}\\s+active`));

    const seen = await as(researcher, 'federations', 'status');
    expect(seen.code).toBe(0);
    expect(seen.stdout).toContain(fidA);
    expect(seen.stdout).not.toContain(fidB);
    const refused = await as(researcher, 'federations', 'status', fidB);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('twinfed: The federation does not exist. (UNKNOWN_FEDERATION)\n');
    const studies = await as(researcher, '--json', 'studies', 'list');
    expect((JSON.parse(studies.stdout) as Array<{ id: string }>).map((s) => s.id)).toEqual([studyA]);
    const models = await as(researcher, 'models', 'list');
    expect(models.stdout).toContain(`${fidA}.v0`);
    expect(models.stdout).not.toContain(fidB);
  });

  test('input errors exit 2 before or after the coordinator: no study for a researcher, a study for an operator, an unknown study', async () => {
    const none = await op('tokens', 'create', 'Dr Nobody');
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'twinfed: A researcher token reads only the federations of its studies: pass --study <id> (see `twinfed studies list`). (VALIDATION_FAILED)\n',
    );
    const scoped = await op('tokens', 'create', 'Ops', '--role', 'operator', '--study', 'default');
    expect(scoped.code).toBe(2);
    expect(scoped.stderr).toContain('operator tokens see every study');
    const unknown = await op('tokens', 'create', 'Dr Typo', '--study', 'study-nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('twinfed: The study does not exist. (UNKNOWN_STUDY)\n');
    const plan = await writePlanFile(dir, GOOD_PLAN);
    const fed = await op('federations', 'create', '--plan', plan, '--study', 'study-nope');
    expect(fed.code).toBe(2);
    expect(fed.stderr).toBe('twinfed: The study does not exist. (UNKNOWN_STUDY)\n');
    const dup = await op('studies', 'create', 'Dup');
    expect(dup.code).toBe(0);
    const again = await op('studies', 'create', 'Dup');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/ALREADY_EXISTS/);
  });
});
