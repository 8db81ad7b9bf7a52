import { PlanSchema } from '../schemas/plan';

/** A minimal valid plan (fedavg, two sites, no privacy options) for the plan-schema tests to vary. */
export const PLAN = {
  name: 'plan',
  model: { kind: 'logistic-regression', inputs: 2 },
  data: { features: ['a', 'b'] },
  strategy: { name: 'fedavg' },
  training: { steps: 10, batchSize: 4, optimizer: 'sgd', lr: 0.1 },
  rounds: 2,
  minSites: 2,
};

/** PlanSchema's issues for `plan` as `path: message` lines; [] when it parses. */
export const problems = (plan: unknown): string[] => {
  const r = PlanSchema.safeParse(plan);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};
