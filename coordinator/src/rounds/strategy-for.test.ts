import { PlanSchema } from '@twinfed/shared';
import { deltaNorm } from '../strategies/ledger';
import { ctxOf, result, runRound } from '../strategies/__tests__/fixtures';
import { strategyFor } from './core';

const plan = (extra: Record<string, unknown>) =>
  PlanSchema.parse({
    name: 'p',
    model: { kind: 'logistic-regression', inputs: 1 },
    data: { features: ['a'] },
    strategy: { name: 'fedavg' },
    training: { steps: 1 },
    rounds: 1,
    minSites: 2,
    ...extra,
  });

describe('strategyFor with plan.clipping', () => {
  // Layout of a 1-input logistic regression: [w, b].
  const updates = [result('honest', 10, [0.3, 0.4]), result('attacker', 10, [-30, -40])];

  test('clips each site delta to clipping.maxNorm before FedAvg averages', () => {
    const r = runRound(strategyFor(plan({ clipping: { maxNorm: 1 } })), ctxOf([0, 0]), updates);
    // The honest delta (norm 0.5) passes; the attacker's (norm 50) is scaled to (−0.6, −0.8): the mean is (−0.15, −0.2).
    expect(Array.from(r.weights).map((v) => Number(v.toFixed(5)))).toEqual([-0.15, -0.2]);
    expect(r.metrics.clippedSites).toBe(1);
    expect(r.metrics.clipNorm).toBe(1);
  });

  test('without clipping the same round is FedAvg (the attacker dominates)', () => {
    const r = runRound(strategyFor(plan({})), ctxOf([0, 0]), updates);
    expect(deltaNorm(r.weights, Float32Array.from([0, 0]))).toBeGreaterThan(20);
    expect(r.metrics.clippedSites).toBeUndefined();
  });

  test('clips before a robust strategy too', () => {
    const three = [...updates, result('other', 10, [0.3, 0.4])];
    const r = runRound(
      strategyFor(plan({ strategy: { name: 'fedmedian' }, clipping: { maxNorm: 1 } })),
      ctxOf([0, 0]),
      three,
    );
    expect(Array.from(r.weights).map((v) => Number(v.toFixed(5)))).toEqual([0.3, 0.4]);
    expect(r.metrics.clippedSites).toBe(1);
  });
});

describe('strategyFor with privacy.dp', () => {
  const dp = { clip: 1, noiseMultiplier: 1, delta: 1e-5 };
  const updates = [result('a', 10, [0.3, 0.4]), result('b', 10, [0.3, 0.4])];

  test('wraps the strategy in central DP (coordinator noise) without secure aggregation', () => {
    expect(
      runRound(strategyFor(plan({ privacy: { dp } })), ctxOf([0, 0], { selectedSites: 2 }), updates).metrics.dpNoiseStd,
    ).toBe(0.5);
  });

  test('leaves it unwrapped with secure aggregation: the sites add the noise (distributed DP), the coordinator adds none', () => {
    const r = runRound(strategyFor(plan({ privacy: { secureAggregation: true, dp } })), ctxOf([0, 0]), updates);
    expect(r.metrics.dpNoiseStd).toBeUndefined();
    expect(Array.from(r.weights).map((v) => Number(v.toFixed(5)))).toEqual([0.3, 0.4]);
  });
});
