import { MAX_EXAMPLES_PER_SITE_LIMIT } from '../schemas/plan';
import { generateIdentity } from './identity';
import { addRing64, decodeRing64, expandRing64, subRing64 } from './ring64';
import { SECAGG_FRACTION_BITS, SECAGG_MAX_COHORT, maskKeyPair, maskRing64, selfMaskSeed } from './secagg';
import {
  SECAGG_MAX_EXAMPLES,
  SECAGG_MAX_LOSS,
  SECAGG_SIDE_FACTS,
  decodeSecaggSum,
  encodeSecaggInput,
  secaggVectorLength,
} from './secagg-payload';

const RD = { federationId: 'fed-1', round: 2, baseVersionId: 'fed-1.v1', coordinatorFingerprint: 'aaaa-bbbb' };

describe('what a site masks under secure aggregation: weights and side facts', () => {
  test('n and the loss are masked with the weights: the sum gives Σn·w, Σn and the example-weighted loss, one vector gives nothing', () => {
    const sites = [
      { id: 'site-a', n: 10, loss: 0.5, w: [0.25, -1] },
      { id: 'site-b', n: 30, loss: 0.7, w: [0.5, 2] },
      { id: 'site-c', n: 60, loss: Number.NaN, w: [-0.75, 0.125] }, // no usable loss: counted in Σn only
    ].map((s) => ({ ...s, identity: generateIdentity() }));
    const survivors = sites.map((s) => ({
      siteId: s.id,
      boxPublicKey: maskKeyPair({ ...RD, boxSecretKey: s.identity.box.secretKey }).publicKey,
    }));
    const length = secaggVectorLength(2);
    expect(length).toBe(2 + SECAGG_SIDE_FACTS);
    const sum = new Uint32Array(2 * length);
    const masked = sites.map((s) => {
      const y = maskRing64({
        ...RD,
        encoded: encodeSecaggInput({ weights: s.w, numExamples: s.n, trainLoss: s.loss }),
        boxSecretKey: s.identity.box.secretKey,
        siteId: s.id,
        survivors,
      });
      addRing64(sum, y);
      return y;
    });
    // The coordinator removes the self masks (after the reveals); the pairwise masks cancel in the sum.
    for (const s of sites)
      subRing64(sum, expandRing64(selfMaskSeed({ ...RD, boxSecretKey: s.identity.box.secretKey }), length));
    const got = decodeSecaggSum(sum, { weights: 2, sites: 3, maxExamples: 1000 });
    expect(got.examples).toBe(100);
    expect(got.lossExamples).toBe(40);
    expect(got.lossSum / got.lossExamples).toBeCloseTo((10 * 0.5 + 30 * 0.7) / 40, 3);
    expect(Array.from(got.weighted)).toEqual([10 * 0.25 + 30 * 0.5 - 60 * 0.75, -10 + 60 + 60 * 0.125]);
    // One site's vector minus its own self mask still hides its n: the pairwise masks cover the side facts too.
    const a = masked[0]!.slice();
    subRing64(a, expandRing64(selfMaskSeed({ ...RD, boxSecretKey: sites[0]!.identity.box.secretKey }), length));
    expect(Math.abs(decodeRing64(a.subarray(4, 6), 0)[0]! - 10)).toBeGreaterThan(1e6);
  });

  test('refuses an example count that could wrap the ring or lose exactness; leaves out a loss it cannot encode', () => {
    expect(SECAGG_MAX_EXAMPLES).toBe(MAX_EXAMPLES_PER_SITE_LIMIT);
    for (const n of [0, -1, 1.5, SECAGG_MAX_EXAMPLES + 1, 2 ** 53, Number.NaN]) {
      expect(() => encodeSecaggInput({ weights: [0], numExamples: n })).toThrow(
        expect.objectContaining({ code: 'EXAMPLES_OUT_OF_RANGE' }),
      );
    }
    for (const loss of [-0.1, SECAGG_MAX_LOSS * 2, Number.POSITIVE_INFINITY]) {
      const y = encodeSecaggInput({ weights: [0], numExamples: 7, trainLoss: loss });
      expect(Array.from(decodeRing64(y, 0))).toEqual([0, 7, 0, 0]);
    }
  });

  test('the largest inputs of the largest cohort sum without wrap-around, and exactly in the integer side facts', () => {
    const wMax = (2 ** 53 - 2 ** 30) / 2 ** SECAGG_FRACTION_BITS / SECAGG_MAX_EXAMPLES; // the largest |w| encodable at n = 2^29
    const one = encodeSecaggInput({
      weights: [wMax, -wMax],
      numExamples: SECAGG_MAX_EXAMPLES,
      trainLoss: SECAGG_MAX_LOSS,
    });
    const sum = new Uint32Array(one.length);
    for (let i = 0; i < SECAGG_MAX_COHORT; i++) addRing64(sum, one);
    const got = decodeSecaggSum(sum, { weights: 2, sites: SECAGG_MAX_COHORT, maxExamples: SECAGG_MAX_EXAMPLES });
    expect(got.examples).toBe(SECAGG_MAX_COHORT * SECAGG_MAX_EXAMPLES);
    expect(got.lossExamples).toBe(SECAGG_MAX_COHORT * SECAGG_MAX_EXAMPLES);
    expect(got.lossSum / got.lossExamples).toBeCloseTo(SECAGG_MAX_LOSS, 6);
    expect(got.weighted[0]! / got.examples).toBeCloseTo(wMax, 6);
    expect(got.weighted[1]).toBe(-got.weighted[0]!); // signs intact: nothing wrapped
  });

  test('the coordinator refuses sums no honest sites can send (Σn outside [sites, sites · max], loss counts above Σn)', () => {
    const add = (...vs: Uint32Array[]) =>
      vs.reduce((acc, v) => (addRing64(acc, v), acc), new Uint32Array(vs[0]!.length));
    const a = encodeSecaggInput({ weights: [1], numExamples: 50, trainLoss: 0.5 });
    expect(decodeSecaggSum(add(a, a), { weights: 1, sites: 2, maxExamples: 50 }).examples).toBe(100);
    expect(() => decodeSecaggSum(add(a, a), { weights: 1, sites: 2, maxExamples: 49 })).toThrow(
      expect.objectContaining({ code: 'EXAMPLES_OUT_OF_RANGE' }),
    );
    expect(() => decodeSecaggSum(add(a, a), { weights: 1, sites: 101, maxExamples: 1000 })).toThrow(
      expect.objectContaining({ code: 'EXAMPLES_OUT_OF_RANGE' }),
    );
    const lying = encodeSecaggInput({ weights: [1], numExamples: 5 });
    lying.set(encodeSecaggInput({ weights: [1], numExamples: 9, trainLoss: 0 }).subarray(6, 8), 6); // claims a loss over 9 of its 5 examples
    expect(() => decodeSecaggSum(lying, { weights: 1, sites: 1, maxExamples: 50 })).toThrow(
      expect.objectContaining({ code: 'EXAMPLES_OUT_OF_RANGE' }),
    );
    expect(() => decodeSecaggSum(new Uint32Array(4), { weights: 1, sites: 1, maxExamples: 50 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });
});

describe('secaggVectorLength', () => {
  test('carries the side facts (n, n·loss, n with a loss) after the weights, except under distributed DP where ε does not cover them', () => {
    expect(secaggVectorLength(10)).toBe(10 + SECAGG_SIDE_FACTS);
    expect(secaggVectorLength(10, { distributedDp: false })).toBe(10 + SECAGG_SIDE_FACTS);
    expect(secaggVectorLength(10, { distributedDp: true })).toBe(10);
  });
});
