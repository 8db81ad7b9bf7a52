import fc from 'fast-check';
import { generateIdentity } from './identity';
import {
  SECURE_SUM_FRACTION_BITS,
  decodeFixedPoint,
  decodeSecureSum,
  encodeFixedPoint,
  maskContribution,
  ringFromBytes,
  secureSumMaxEncoded,
  ringToBytes,
  sumMaskedContributions,
  type SecureSumMember,
} from './secure-sum';

function cohortOf(n: number) {
  const sites = Array.from({ length: n }, (_, i) => ({
    siteId: `site-${String.fromCharCode(97 + i)}`,
    identity: generateIdentity(),
  }));
  const cohort: SecureSumMember[] = sites.map((s) => ({ siteId: s.siteId, boxPublicKey: s.identity.box.publicKey }));
  return { sites, cohort };
}

const EPS = 2 ** -SECURE_SUM_FRACTION_BITS;

describe('fixed point', () => {
  test('round-trips reals, negatives included, to 2^-20', () => {
    const xs = [0, 1, -1, 3.141592653589793, -2.5e9, 1234567.891, -1e-7];
    const back = decodeFixedPoint(encodeFixedPoint(xs));
    xs.forEach((x, i) => expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(EPS / 2));
    expect(ringFromBytes(ringToBytes(encodeFixedPoint(xs)), xs.length)).toEqual(encodeFixedPoint(xs));
  });

  test('refuses values it cannot represent', () => {
    expect(() => encodeFixedPoint([Number.NaN])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => encodeFixedPoint([Number.POSITIVE_INFINITY])).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => encodeFixedPoint([2 ** 40])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => ringFromBytes(new Uint8Array(15), 2)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('secure sum', () => {
  const context = 'fed-1/normalization';

  test('adds up to the cohort total while each contribution looks unrelated to its values', () => {
    const { sites, cohort } = cohortOf(4);
    const values = sites.map((_, i) => [i + 1, 10.25 * i, -3.5, 1e6 + i]);
    const masked = sites.map((s, i) =>
      maskContribution({
        values: values[i]!,
        siteId: s.siteId,
        boxSecretKey: s.identity.box.secretKey,
        cohort,
        context,
      }),
    );
    const total = decodeSecureSum(sumMaskedContributions(masked, 4), { length: 4 });
    const want = [10, 61.5, -14, 4e6 + 6];
    want.forEach((w, k) => expect(Math.abs(total[k]! - w)).toBeLessThanOrEqual(4 * EPS));
    // One site's bytes decode to nothing like its values.
    const alone = decodeSecureSum(masked[0]!, { length: 4 });
    expect(alone.some((v, k) => Math.abs(v - values[0]![k]!) > 1e6)).toBe(true);
  });

  test('does not complete without every member: a missing contribution leaves the masks in', () => {
    const { sites, cohort } = cohortOf(3);
    const masked = sites.map((s) =>
      maskContribution({ values: [1, 2], siteId: s.siteId, boxSecretKey: s.identity.box.secretKey, cohort, context }),
    );
    const partial = decodeSecureSum(sumMaskedContributions(masked.slice(0, 2), 2), { length: 2 });
    expect(Math.abs(partial[0]! - 2)).toBeGreaterThan(1e6);
  });

  test('is deterministic per context, and another context gives other masks', () => {
    const { sites, cohort } = cohortOf(2);
    const s = sites[0]!;
    const a = maskContribution({
      values: [5],
      siteId: s.siteId,
      boxSecretKey: s.identity.box.secretKey,
      cohort,
      context,
    });
    expect(
      maskContribution({ values: [5], siteId: s.siteId, boxSecretKey: s.identity.box.secretKey, cohort, context }),
    ).toEqual(a);
    expect(
      maskContribution({
        values: [5],
        siteId: s.siteId,
        boxSecretKey: s.identity.box.secretKey,
        cohort,
        context: 'fed-2/normalization',
      }),
    ).not.toEqual(a);
  });

  test('refuses a site outside the cohort, duplicate members and invalid keys', () => {
    const { sites, cohort } = cohortOf(2);
    const s = sites[0]!;
    const base = { values: [1], boxSecretKey: s.identity.box.secretKey, context };
    expect(() => maskContribution({ ...base, siteId: 'site-z', cohort })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() => maskContribution({ ...base, siteId: s.siteId, cohort: [...cohort, cohort[1]!] })).toThrow(/twice/);
    expect(() =>
      maskContribution({
        ...base,
        siteId: s.siteId,
        cohort: [cohort[0]!, { siteId: 'site-b', boxPublicKey: new Uint8Array(32) }],
      }),
    ).toThrow(/invalid/);
  });

  test('sums any cohort of 2–6 sites exactly to the fixed-point total (property)', () => {
    const { sites, cohort } = cohortOf(6);
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 6 * 3, maxLength: 6 * 3 }),
        (n, flat) => {
          const members = cohort.slice(0, n);
          const values = sites.slice(0, n).map((_, i) => flat.slice(i * 3, i * 3 + 3));
          const masked = sites.slice(0, n).map((s, i) =>
            maskContribution({
              values: values[i]!,
              siteId: s.siteId,
              boxSecretKey: s.identity.box.secretKey,
              cohort: members,
              context,
            }),
          );
          const got = ringFromBytes(sumMaskedContributions(masked, 3), 3);
          const want = new BigUint64Array(3);
          values.forEach((v) => encodeFixedPoint(v).forEach((u, k) => (want[k] = want[k]! + u)));
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 25 },
    );
  });

  test('cannot wrap around, whatever the cohort size: each value is bounded by 2^63 / the cohort (a 129-site cohort wrapped at the old 2^56 limit)', () => {
    const n = 129;
    const sites = Array.from({ length: n }, (_, i) => ({
      siteId: `site-${String(i).padStart(3, '0')}`,
      identity: generateIdentity(),
    }));
    const cohort: SecureSumMember[] = sites.map((s) => ({ siteId: s.siteId, boxPublicKey: s.identity.box.publicKey }));
    const contribute = (x: number) =>
      sites.map((s) =>
        maskContribution({ values: [x], siteId: s.siteId, boxSecretKey: s.identity.box.secretKey, cohort, context }),
      );
    // Just under the old per-value limit (2^56 encoded): 129 of them sum past 2^63 and the ring sum wraps negative.
    const old = (2 ** 56 - 2 ** 20) / 2 ** SECURE_SUM_FRACTION_BITS;
    expect(BigInt(n) * BigInt(old * 2 ** SECURE_SUM_FRACTION_BITS)).toBeGreaterThan(2n ** 63n);
    expect(() => contribute(old)).toThrow(expect.objectContaining({ code: 'SECURE_SUM_OVERFLOW' }));
    // Within this cohort's limit (2^55 encoded for 129–256 sites) the total is exact.
    expect(secureSumMaxEncoded(n)).toBe(2 ** 55);
    const fits = (2 ** 55 - 2 ** 20) / 2 ** SECURE_SUM_FRACTION_BITS;
    const total = decodeSecureSum(sumMaskedContributions(contribute(fits), 1), { length: 1 });
    expect(total[0]).toBe(n * fits);
    expect([2, 3, 4, 128, 129, 256, 257, 10_000].map(secureSumMaxEncoded)).toEqual([
      2 ** 56,
      2 ** 56,
      2 ** 56,
      2 ** 56,
      2 ** 55,
      2 ** 55,
      2 ** 54,
      2 ** 49,
    ]);
  });
});
