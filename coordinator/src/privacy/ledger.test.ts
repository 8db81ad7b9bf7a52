import type { Federation, JsonObject, ModelVersion } from '../store';
import { composeSpends, privacyLedger } from './ledger';

const plan = (privacy: JsonObject = {}): JsonObject => ({
  name: 'p',
  model: { kind: 'logistic-regression', inputs: 2 },
  data: { features: ['a', 'b'] },
  strategy: { name: 'fedavg' },
  training: { steps: 1, batchSize: 4, optimizer: 'sgd', lr: 0.1 },
  rounds: 3,
  minSites: 2,
  roundDeadlineSeconds: 60,
  privacy,
});

const federation = (id: string, createdAt: string, privacy?: JsonObject): Federation => ({
  id,
  name: id,
  studyId: 'default',
  plan: plan(privacy),
  state: 'running',
  createdAt,
  updatedAt: createdAt,
  currentRound: 0,
  latestVersionId: null,
});

const version = (fid: string, round: number, sites: string[], dp?: { eps: number; rounds: number }): ModelVersion => ({
  id: `${fid}.v${round}`,
  federationId: fid,
  parentVersionId: round ? `${fid}.v${round - 1}` : null,
  round,
  meta: {
    contributors: sites.map((siteId) => ({ siteId })),
    metrics: dp ? { dpRounds: dp.rounds } : {},
    ...(dp ? { dpEpsilon: dp.eps } : {}),
  },
  signature: '',
  weightsSha256: '',
  createdAt: '2026-01-01T00:00:00.000Z',
});

describe('privacyLedger', () => {
  const dp = { dp: { clip: 1, noiseMultiplier: 2, delta: 1e-6 } };
  const federations = [federation('fed-b', '2026-01-02', dp), federation('fed-a', '2026-01-01')];
  const versions = [
    version('fed-b', 0, []),
    version('fed-b', 1, ['s1', 's2'], { eps: 0.5, rounds: 1 }),
    version('fed-b', 2, ['s1'], { eps: 0.8, rounds: 2 }),
    version('fed-a', 1, ['s2']),
  ];
  const sites = [
    { id: 's1', name: 'Zeta' },
    { id: 's2', name: 'Alpha' },
    { id: 's3', name: 'Idle' },
  ];

  test("charges a site the ε of the federation's latest version even when it left before it, counting its versions", () => {
    const ledger = privacyLedger({ federations, versions, sites });
    expect(ledger.map((s) => s.siteName)).toEqual(['Alpha', 'Zeta']);
    const alpha = ledger[0]!;
    expect(alpha.federations.map((f) => [f.federationId, f.epsilon, f.releases, f.versionsContributed])).toEqual([
      ['fed-a', null, 0, 1],
      ['fed-b', 0.8, 2, 1],
    ]);
    expect(alpha.total).toMatchObject({ epsilon: null, delta: 1e-6, federationsWithoutDp: 1 });
    const zeta = ledger[1]!;
    expect(zeta.federations).toHaveLength(1);
    expect(zeta.federations[0]).toMatchObject({
      epsilon: 0.8,
      delta: 1e-6,
      mechanism: 'gaussian',
      versionsContributed: 2,
    });
    expect(zeta.total.epsilon).toBe(0.8);
    expect(zeta.total.plannedEpsilon).toBeGreaterThan(0.8);
  });

  test('keeps one site alone when asked, and nothing for a site that contributed to nothing', () => {
    expect(privacyLedger({ federations, versions, sites }, 's1').map((s) => s.siteId)).toEqual(['s1']);
    expect(privacyLedger({ federations, versions, sites }, 's3')).toEqual([]);
  });

  test('composes by Σ ε and Σ δ', () => {
    const spend = { epsilon: 1, plannedEpsilon: 2, delta: 1e-5 } as const;
    const base = {
      federationId: 'f',
      federationName: 'f',
      studyId: 'default',
      state: 'completed' as const,
      mechanism: 'gaussian' as const,
      releases: 1,
      versionsContributed: 1,
      latestVersionId: null,
    };
    expect(
      composeSpends([
        { ...base, ...spend },
        { ...base, ...spend, epsilon: 2.5 },
      ]),
    ).toEqual({
      epsilon: 3.5,
      plannedEpsilon: 4,
      delta: 2e-5,
      federationsWithoutDp: 0,
    });
    expect(composeSpends([])).toEqual({ epsilon: 0, plannedEpsilon: 0, delta: 0, federationsWithoutDp: 0 });
  });
});
