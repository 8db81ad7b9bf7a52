import { deserializeWeights, gaussianDpEpsilon } from '@twinfed/shared';
import { engineFixture, fixturePlan, trainedWeights } from './__tests__/engine-fixture';

/** A plan's `privacy.dp` must change what is published: clipped deltas, Gaussian noise, ε in the signed metadata. */
describe('central differential privacy from the plan', () => {
  const dp = { clip: 0.05, noiseMultiplier: 1.1, delta: 1e-5 };

  async function run(privacy: Record<string, unknown>) {
    const fx = await engineFixture({ sites: 3 });
    const e = fx.engine();
    const fed = await e.createFederation(
      fixturePlan({ rounds: 2, strategy: { name: 'fedavg' }, privacy } as never),
      'test',
    );
    await fx.drive(e, fed.id);
    e.close();
    const versions = await fx.store.listVersions({ federationId: fed.id });
    const weights = async (id: string) => deserializeWeights((await fx.store.getVersionWeights(id))!).data;
    return { versions, weights };
  }

  test('each published round is clipped and noised, and its version carries the ε spent so far', async () => {
    const { versions, weights } = await run({ secureAggregation: false, dp });
    expect(versions.map((v) => v.round)).toEqual([0, 1, 2]);
    const v0 = await weights(versions[0]!.id);
    const v1 = await weights(versions[1]!.id);
    // Without DP, v1 would be the mean of the three sites' trained weights; with it, the mean clipped delta plus noise.
    const plainMean = v0.map((_, i) => [0, 1, 2].reduce((a, s) => a + trainedWeights(v0, s, 1)[i]!, 0) / 3);
    expect(Array.from(v1)).not.toEqual(Array.from(Float32Array.from(plainMean)));
    for (const [k, v] of versions.slice(1).entries()) {
      const m = v.meta.metrics as Record<string, number>;
      expect(m.dpNoiseStd).toBeCloseTo((dp.noiseMultiplier * dp.clip) / 3, 10);
      expect(m.dpRounds).toBe(k + 1);
      expect(v.meta.dpEpsilon as number).toBeCloseTo(
        gaussianDpEpsilon({ noiseMultiplier: dp.noiseMultiplier, releases: k + 1, delta: dp.delta }),
        10,
      );
    }
    expect(versions[2]!.meta.dpEpsilon as number).toBeGreaterThan(versions[1]!.meta.dpEpsilon as number);
    expect(versions[0]!.meta.dpEpsilon).toBe(0);
  });

  test('a DP version publishes nothing beside ε that ε does not cover: no training loss, example counts or clipping count', async () => {
    const { versions } = await run({ secureAggregation: false, dp });
    for (const v of versions.slice(1)) {
      expect(Object.keys(v.meta.metrics as Record<string, number>).sort()).toEqual([
        'clipNorm',
        'dpNoiseStd',
        'dpRounds',
        'failures',
        'sites',
      ]);
      const contributors = v.meta.contributors as Array<{ siteId: string; numExamples?: number }>;
      expect(contributors.length).toBe(3);
      for (const c of contributors) expect(c).toEqual({ siteId: c.siteId });
    }
    const plain = await run({ secureAggregation: false });
    expect((plain.versions[1]!.meta.metrics as Record<string, number>).trainLoss).toEqual(expect.any(Number));
    expect((plain.versions[1]!.meta.contributors as Array<{ numExamples?: number }>)[0]!.numExamples).toEqual(
      expect.any(Number),
    );
  });

  test('the noise comes from a CSPRNG: two identical federations publish different round-1 weights', async () => {
    const a = await run({ secureAggregation: false, dp });
    const b = await run({ secureAggregation: false, dp });
    expect(Array.from(await a.weights(a.versions[1]!.id))).not.toEqual(Array.from(await b.weights(b.versions[1]!.id)));
  });

  test('without DP nothing is noised and no ε is claimed', async () => {
    const { versions } = await run({ secureAggregation: false });
    for (const v of versions) {
      expect(v.meta.dpEpsilon).toBeUndefined();
      expect((v.meta.metrics as Record<string, number>).dpNoiseStd).toBeUndefined();
    }
  });
});
