/**
 * The shipped examples stay valid: every plan under examples/plans parses with PlanSchema, every CSV mapping with
 * its schema, the examples cover every model kind, strategy and privacy option, and their sample data load through
 * the site's own parser and guardrails. A new invalid example fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CsvMappingSchema } from '@twinfed/models';
import { CohortQuerySchema, PlanSchema, StrategySchema, type Plan } from '@twinfed/shared';
import {
  CohortPolicySchema,
  CsvIngestMappingSchema,
  MemoryTwinStore,
  TWIN_SCENARIO_PLAN,
  importCsv,
  loadLocalData,
} from '@twinfed/site-client';
import { heartPlan } from '../demo/heart-plan';
import { repoRoot } from '../support/paths';

const root = repoRoot();
const plansDir = path.join(root, 'examples', 'plans');
const read = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));
const files = fs.readdirSync(plansDir).sort();
const isMapping = (f: string): boolean => /mapping\.json$/.test(f);
const planFiles = files.filter((f) => f.endsWith('.json') && !isMapping(f));
const plans = new Map<string, Plan>(
  planFiles.flatMap((f) => {
    const r = PlanSchema.safeParse(read(path.join(plansDir, f)));
    return r.success ? [[f, r.data] as const] : [];
  }),
);

/** The sample data file of each tabular mapping, and the columns of the rows it rejects (the gaps it shows on purpose). */
const SAMPLE_DATA: Record<string, { data: string; rejected: string[] }> = {
  'csv-clinic-fedavg.mapping.json': { data: 'examples/data/clinic-a.csv', rejected: ['BMI', 'Systolic BP'] },
  'rossi-cox.mapping.json': { data: 'data/rossi/rossi.csv', rejected: [] },
};

describe('examples/plans', () => {
  test('holds only plans (*.json), site CSV mappings (*.mapping.json) and twin import mappings (*.import-mapping.json)', () => {
    expect(files.filter((f) => !f.endsWith('.json'))).toEqual([]);
  });

  test.each(planFiles)('%s is a valid plan whose name is its file name', (file) => {
    const r = PlanSchema.safeParse(read(path.join(plansDir, file)));
    expect(r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
    expect(`${plans.get(file)!.name}.json`).toBe(file);
  });

  test.each(files.filter(isMapping))('%s is a valid mapping for the plan it sits beside', (file) => {
    const planFile = file.replace(/\.(import-)?mapping\.json$/, '.json');
    const plan = plans.get(planFile);
    expect(plan).toBeDefined();
    if (file.endsWith('.import-mapping.json')) {
      CsvIngestMappingSchema.parse(read(path.join(plansDir, file)));
      expect(plan!.data.derive).toBeDefined();
    } else {
      const mapping = CsvMappingSchema.parse(read(path.join(plansDir, file)));
      expect(mapping.features.map((f) => f.name)).toEqual(plan!.data.features);
      expect(plan!.data.derive).toBeUndefined();
    }
  });

  test('cover every model kind, every strategy, secure aggregation, central and distributed DP with maxEpsilon, a twin plan and a CSV plan', () => {
    const all = [...plans.values()];
    expect(new Set(all.map((p) => p.model.kind))).toEqual(new Set(['logistic-regression', 'mlp', 'cox', 'cox-mlp']));
    const strategies = StrategySchema.options.map((o) => o.shape.name.value);
    expect(new Set(all.map((p) => p.strategy.name))).toEqual(new Set(strategies));
    expect(all.some((p) => p.privacy.secureAggregation)).toBe(true);
    expect(all.some((p) => p.privacy.dp?.maxEpsilon !== undefined)).toBe(true);
    expect(all.some((p) => p.privacy.secureAggregation && p.privacy.dp?.maxEpsilon !== undefined)).toBe(true); // distributed DP
    expect(all.some((p) => p.data.derive && p.data.labelRule && p.data.tiers && p.data.population)).toBe(true);
    expect(files.some((f) => f.endsWith('.mapping.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('.import-mapping.json'))).toBe(true);
  });

  test.each(Object.entries(SAMPLE_DATA))(
    '%s loads its sample data through the site’s parser and guardrails, with enough training rows for the plan',
    (mappingFile, { data, rejected }) => {
      const plan = plans.get(mappingFile.replace(/\.mapping\.json$/, '.json'))!;
      const loaded = loadLocalData({
        kind: 'csv',
        csvPath: path.join(root, data),
        mappingPath: path.join(plansDir, mappingFile),
        testFraction: 0.34,
        splitSeed: 43,
      });
      expect(loaded.dataset.features).toEqual(plan.data.features);
      expect(loaded.dataset.train.n).toBeGreaterThanOrEqual(plan.data.minExamplesPerSite);
      expect(loaded.rejected.map((r) => r.column)).toEqual(rejected);
      // A Cox plan's mapping gives times and events; a binary plan's, labels only.
      expect(loaded.dataset.train.time !== undefined).toBe(plan.model.kind === 'cox' || plan.model.kind === 'cox-mlp');
    },
  );

  test('the twin import mapping imports its sample export without a rejection', async () => {
    const store = new MemoryTwinStore({ secret: new Uint8Array(32).fill(3), now: () => Date.UTC(2025, 0, 20) });
    const text = fs.readFileSync(path.join(root, 'examples/data/twin-vitals.csv'), 'utf8');
    const report = await importCsv({
      store,
      text,
      mapping: read(path.join(plansDir, 'twin-infection-risk.import-mapping.json')),
    });
    expect(report.rejected).toEqual([]);
    expect(report.accepted).toMatchObject({ patients: 3, consents: 6, immunizations: 1, exposures: 1 });
    expect(report.accepted.observations).toBe(11);
    expect(report.accepted.conditions).toBe(4);
  });

  test('the twin example is the simulator’s scenario plan, and the FedYogi example is the heart-disease demo’s plan', () => {
    expect({
      ...(read(path.join(plansDir, 'twin-infection-risk.json')) as object),
      name: TWIN_SCENARIO_PLAN.name,
    }).toEqual(JSON.parse(JSON.stringify(TWIN_SCENARIO_PLAN)));
    expect({ ...(read(path.join(plansDir, 'heart-fedyogi.json')) as object), name: heartPlan().name }).toEqual(
      heartPlan(),
    );
  });
});

describe('docker/plans', () => {
  const dir = path.join(root, 'docker', 'plans');
  test.each(fs.readdirSync(dir).filter((f) => f.endsWith('.json')))(
    '%s is a valid plan, the same as its example',
    (file) => {
      const raw = read(path.join(dir, file));
      expect(PlanSchema.safeParse(raw).success).toBe(true);
      expect({ ...(raw as object), name: 'heart-fedyogi' }).toEqual(read(path.join(plansDir, 'heart-fedyogi.json')));
    },
  );
});

describe('examples/cohort', () => {
  const dir = path.join(root, 'examples', 'cohort');
  const cohortFiles = fs.readdirSync(dir).sort();

  test('holds cohort queries and one site policy', () => {
    expect(cohortFiles).toEqual(['clinic-by-age.json', 'site-policy.json', 'twins-diabetes-heart-rate.json']);
  });

  test.each(cohortFiles.filter((f) => f !== 'site-policy.json'))('%s is a valid cohort query', (file) => {
    const r = CohortQuerySchema.safeParse(read(path.join(dir, file)));
    expect(r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([]);
  });

  test('site-policy.json has a valid cohortQueries part', () => {
    expect(
      CohortPolicySchema.safeParse(
        (read(path.join(dir, 'site-policy.json')) as { cohortQueries: unknown }).cohortQueries,
      ).success,
    ).toBe(true);
  });
});
