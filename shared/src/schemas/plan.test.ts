import { ddpEpsilon, ddpParameters } from '../dp/distributed';
import { gaussianDpEpsilon } from '../dp/gaussian-accountant';
import {
  DEFAULT_MAX_EXAMPLES_PER_SITE,
  PlanSchema,
  dpMechanism,
  maxExamplesPerSite,
  planDdpParameters,
  planEpsilon,
  planEpsilonAfter,
  planSecaggGraph,
  requiresApprovals,
} from './plan';
import { planDigest } from '../envelope/model-version';
import { PLAN, problems } from '../__tests__/plan-fixture';

describe('PlanSchema privacy options', () => {
  test('accepts a plan without secure aggregation, and central DP on a mean-delta strategy', () => {
    expect(problems(PLAN)).toEqual([]);
    expect(
      problems({ ...PLAN, privacy: { secureAggregation: false, dp: { clip: 1, noiseMultiplier: 1, delta: 1e-5 } } }),
    ).toEqual([]);
  });

  test('takes secure aggregation with a mean-delta strategy, with or without DP (distributed DP), not with fewer than 2 sites', () => {
    expect(problems({ ...PLAN, privacy: { secureAggregation: true } })).toEqual([]);
    expect(
      problems({ ...PLAN, privacy: { secureAggregation: true, dp: { clip: 1, noiseMultiplier: 1, delta: 1e-5 } } }),
    ).toEqual([]);
    expect(problems({ ...PLAN, minSites: 1, privacy: { secureAggregation: true } })).toEqual([
      'minSites: secure aggregation needs minSites ≥ 2 (the sum of one site is that site)',
    ]);
  });

  test('names the strategy as the problem when it could never run with secure aggregation', () => {
    expect(problems({ ...PLAN, strategy: { name: 'fedmedian' }, privacy: { secureAggregation: true } })).toEqual([
      'strategy.name: fedmedian needs individual updates and cannot run with secure aggregation',
    ]);
  });
});

describe('PlanSchema secure-aggregation graph (SecAgg+)', () => {
  const secure = (graph: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
    ...PLAN,
    ...more,
    privacy: { secureAggregation: true, secureAggregationGraph: graph },
  });

  test('absent: auto with δ = γ = 0.1, without changing the digest of plans written before it', () => {
    const parsed = PlanSchema.parse({ ...PLAN, privacy: { secureAggregation: true } });
    expect('secureAggregationGraph' in parsed.privacy).toBe(false);
    expect(planSecaggGraph(parsed)).toEqual({ graph: 'auto', dropoutFraction: 0.1, corruptFraction: 0.1 });
    expect(planSecaggGraph(PlanSchema.parse(secure({ graph: 'sparse', dropoutFraction: 0.05 })))).toEqual({
      graph: 'sparse',
      dropoutFraction: 0.05,
      corruptFraction: 0.1,
    });
  });

  test('refuses fractions outside [0, 1/3), unknown graphs and the option without secure aggregation, with the field named', () => {
    expect(problems(secure({ graph: 'auto', dropoutFraction: 0.2, corruptFraction: 0 }))).toEqual([]);
    expect(problems(secure({ dropoutFraction: 0.34 }))[0]).toMatch(
      /^privacy\.secureAggregationGraph\.dropoutFraction: /,
    );
    expect(problems(secure({ corruptFraction: -0.1 }))[0]).toMatch(
      /^privacy\.secureAggregationGraph\.corruptFraction: /,
    );
    expect(problems(secure({ graph: 'ring' }))[0]).toMatch(/^privacy\.secureAggregationGraph\.graph: /);
    expect(problems({ ...PLAN, privacy: { secureAggregationGraph: { graph: 'sparse' } } })).toEqual([
      'privacy.secureAggregationGraph: privacy.secureAggregationGraph needs privacy.secureAggregation: true',
    ]);
  });

  test('checks the graph against sitesPerRound when it is known', () => {
    expect(problems(secure({ graph: 'sparse' }, { sitesPerRound: 500 }))).toEqual([]);
    expect(problems(secure({ graph: 'sparse' }, { sitesPerRound: 6 }))[0]).toMatch(
      /^privacy\.secureAggregationGraph\.graph: no sparse graph over 6 sites/,
    );
    expect(problems(secure({ graph: 'complete' }, { sitesPerRound: 300 }))[0]).toMatch(
      /^privacy\.secureAggregationGraph\.graph: a complete secure-aggregation graph takes at most 255 sites/,
    );
    expect(problems(secure({ graph: 'auto' }, { sitesPerRound: 2000 }))).toEqual([
      'sitesPerRound: secure aggregation takes at most 1024 sites per round, not 2000',
    ]);
  });
});

describe('PlanSchema differential privacy', () => {
  const dp = (extra: Record<string, unknown>) => ({
    ...PLAN,
    rounds: 15,
    privacy: { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5, ...extra } },
  });

  test('refuses noise ×0 (clipping alone gives no privacy)', () => {
    expect(problems(dp({ noiseMultiplier: 0 }))).toEqual([
      'privacy.dp.noiseMultiplier: Too small: expected number to be >=0.3',
    ]);
  });

  test('refuses a plan whose rounds would spend more than maxEpsilon, and accepts one within it', () => {
    expect(problems(dp({ maxEpsilon: 10 }))).toEqual([
      'privacy.dp.maxEpsilon: 15 rounds at noise ×1.1 spend ε = 20.56 (δ = 0.00001), over the maximum 10',
    ]);
    expect(problems(dp({ maxEpsilon: 25 }))).toEqual([]);
  });
});

describe('PlanSchema distributed DP (secure aggregation + privacy.dp)', () => {
  const dp = { clip: 1, noiseMultiplier: 1.1, delta: 1e-5 };
  const ddp = (extra: Record<string, unknown> = {}, dpExtra: Record<string, unknown> = {}) => ({
    ...PLAN,
    rounds: 15,
    ...extra,
    privacy: { secureAggregation: true, dp: { ...dp, ...dpExtra } },
  });

  test('is the Skellam mechanism, accounted with the Skellam RDP bound for the plan’s model size (central DP keeps exact Gaussian accounting)', () => {
    const distributed = PlanSchema.parse(ddp());
    const central = PlanSchema.parse({ ...ddp(), privacy: { dp } });
    expect(dpMechanism(distributed)).toBe('skellam');
    expect(dpMechanism(central)).toBe('gaussian');
    expect(dpMechanism(PlanSchema.parse(PLAN))).toBeNull();
    const params = ddpParameters({ clip: 1, noiseMultiplier: 1.1, dimension: 3 }); // logistic regression over 2 inputs: 2 weights + bias
    expect(planDdpParameters(distributed)).toEqual(params);
    expect(planDdpParameters(central)).toBeNull();
    expect(planEpsilon(distributed)).toBe(ddpEpsilon(params, 15, 1e-5));
    expect(planEpsilonAfter(distributed, 4)).toBe(ddpEpsilon(params, 4, 1e-5));
    expect(planEpsilon(central)).toBe(gaussianDpEpsilon({ noiseMultiplier: 1.1, releases: 15, delta: 1e-5 }));
    expect(planEpsilon(distributed)!).toBeGreaterThan(planEpsilon(central)!); // RDP conversion is looser than exact GDP
  });

  test('checks maxEpsilon with the Skellam accountant', () => {
    // 15 rounds at ×1.1: central ε = 20.56, distributed ε ≈ 22.1
    expect(problems({ ...ddp(), privacy: { dp: { ...dp, maxEpsilon: 21 } } })).toEqual([]);
    expect(problems(ddp({}, { maxEpsilon: 21 }))).toEqual([
      expect.stringMatching(
        /^privacy\.dp\.maxEpsilon: 15 rounds at noise ×1\.1 spend ε = 22\.\d\d \(δ = 0\.00001\), over the maximum 21$/,
      ),
    ]);
    expect(problems(ddp({}, { maxEpsilon: 23 }))).toEqual([]);
  });

  test('still refuses what cannot work: robust strategies, cyclic, plain clipping', () => {
    expect(problems(ddp({ strategy: { name: 'krum' }, minSites: 3 }))).toEqual([
      'strategy.name: krum needs individual updates and cannot run with secure aggregation',
      'privacy.dp: DP needs a mean-delta strategy (fedavg, fedprox, scaffold, fedadam, fedyogi, fedadagrad), not krum',
    ]);
    expect(problems(ddp({ strategy: { name: 'cyclic' }, minSites: 1 }))).toContain(
      'strategy.name: cyclic passes one site’s weights on and cannot run with secure aggregation',
    );
    expect(problems(ddp({ clipping: { maxNorm: 1 } }))).toEqual([
      'clipping: clipping needs individual updates, which secure aggregation hides from the coordinator',
    ]);
  });
});

describe('PlanSchema SCAFFOLD', () => {
  test('needs local SGD: its control variates estimate a gradient from lr × steps, which Adam’s steps are not', () => {
    const scaffold = { ...PLAN, strategy: { name: 'scaffold', serverLr: 1 } };
    expect(problems({ ...scaffold, training: { ...PLAN.training, optimizer: 'sgd' } })).toEqual([]);
    expect(problems({ ...scaffold, training: { ...PLAN.training, optimizer: 'adam' } })).toEqual([
      'training.optimizer: scaffold needs training.optimizer "sgd": its control variates are (w_global − w_local) / (lr × steps), a gradient estimate only for plain SGD steps',
    ]);
    expect(problems({ ...PLAN, training: { ...PLAN.training, optimizer: 'adam' } })).toEqual([]);
  });
});

describe('PlanSchema training.maxExamplesPerSite', () => {
  const training = (extra: Record<string, unknown>) => ({ ...PLAN, training: { ...PLAN.training, ...extra } });

  test('defaults to 1,000,000 and takes a positive integer up to 2^29', () => {
    expect(maxExamplesPerSite(PlanSchema.parse(PLAN).training)).toBe(DEFAULT_MAX_EXAMPLES_PER_SITE);
    expect(DEFAULT_MAX_EXAMPLES_PER_SITE).toBe(1_000_000);
    expect(maxExamplesPerSite(PlanSchema.parse(training({ maxExamplesPerSite: 2 ** 29 })).training)).toBe(2 ** 29);
  });

  test.each([0, -5, 1.5, 2 ** 29 + 1, Number.MAX_SAFE_INTEGER])('refuses %p', (n) => {
    expect(problems(training({ maxExamplesPerSite: n }))).toEqual([
      expect.stringMatching(/^training\.maxExamplesPerSite: /),
    ]);
  });
});

describe('PlanSchema DP parameter ranges (issue 10, finding 11)', () => {
  const dp = (extra: Record<string, unknown>) => ({
    ...PLAN,
    rounds: 15,
    privacy: { dp: { clip: 1, noiseMultiplier: 1.1, delta: 1e-5, ...extra } },
  });

  test.each([
    ['noiseMultiplier', 1e-300],
    ['noiseMultiplier', 0.29],
    ['noiseMultiplier', Number.POSITIVE_INFINITY],
    ['delta', 0.999999],
    ['delta', 0.0011],
    ['clip', 1e308],
    ['clip', 10_001],
  ])('refuses %s = %p', (key, value) => {
    expect(problems(dp({ [key]: value }))).toEqual([expect.stringMatching(new RegExp(`^privacy\\.dp\\.${key}: `))]);
  });

  test('accepts the documented edges: noise ×0.3, δ = 1e-3, clip 10,000', () => {
    expect(problems(dp({ noiseMultiplier: 0.3, delta: 1e-3, clip: 10_000 }))).toEqual([]);
  });
});

describe('PlanSchema governance', () => {
  test('takes requireApprovals true or false and refuses anything else in it', () => {
    expect(problems({ ...PLAN, governance: { requireApprovals: true } })).toEqual([]);
    expect(problems({ ...PLAN, governance: { requireApprovals: false } })).toEqual([]);
    expect(problems({ ...PLAN, governance: { requireApprovals: 'yes' } })).toHaveLength(1);
    expect(problems({ ...PLAN, governance: { requireApprovals: true, approvers: ['A'] } })).toHaveLength(1);
  });

  test('is optional without a default, so a plan written before it keeps its digest', () => {
    const parsed = PlanSchema.parse(PLAN);
    expect('governance' in parsed).toBe(false);
    expect(planDigest(parsed)).toBe(planDigest(PlanSchema.parse(structuredClone(PLAN))));
    expect(planDigest(PlanSchema.parse({ ...PLAN, governance: { requireApprovals: false } }))).not.toBe(
      planDigest(parsed),
    );
  });

  test('requiresApprovals is true only when the plan says so', () => {
    expect(requiresApprovals(PlanSchema.parse(PLAN))).toBe(false);
    expect(requiresApprovals(PlanSchema.parse({ ...PLAN, governance: { requireApprovals: false } }))).toBe(false);
    expect(requiresApprovals(PlanSchema.parse({ ...PLAN, governance: { requireApprovals: true } }))).toBe(true);
  });
});
