import { api } from '@twinfed/shared';
import fc from 'fast-check';
import { SecaggStateParser, isB64 } from './secagg-state-parser';

const SecaggStateSchema = api.secagg.get.response.schema;

const key = (i: number) => Buffer.alloc(32, i).toString('base64');
const sig = (i: number) => Buffer.alloc(64, i).toString('base64');
const ids = Array.from({ length: 12 }, (_, i) => `site-${String(i).padStart(3, '0')}`);
const state = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  federationId: 'fed-1',
  round: 2,
  phase: 'unmasking',
  threshold: 3,
  cohort: ids.slice(0, 4).map((siteId, i) => ({
    siteId,
    boxPublicKey: key(i),
    signPublicKey: key(i + 50),
    directorySignature: sig(i),
  })),
  shared: true,
  revealed: false,
  survivors: ids.slice(0, 4).map((siteId, i) => ({
    siteId,
    maskPublicKey: key(i + 100),
    boxesSha256: 'ab'.repeat(32),
    signature: sig(i + 1),
  })),
  sharesForMe: ids.slice(1, 4).map((from, i) => ({ from, nonce: key(i).slice(0, 16), ciphertext: sig(i) })),
  maskedBy: ids.slice(0, 10),
  consistency: [{ siteId: ids[0], signature: sig(9) }],
  sharesDeadlineAt: '2026-12-07T00:00:00.000Z',
  unmaskDeadlineAt: '2026-12-07T00:01:00.000Z',
  view: 'neighbourhood',
  cohortIds: ids,
  survivorIds: ids.slice(0, 11),
  ...over,
});
const edit = <T>(list: readonly T[], i: number, x: unknown): unknown[] => list.map((v, j) => (j === i ? x : v));
const base = state();
const survivors = base.survivors as Record<string, unknown>[];
const cohort = base.cohort as Record<string, unknown>[];
const shares = base.sharesForMe as Record<string, unknown>[];

/** Valid answers, and each kind of damage to the lists the parser checks itself (and some beside them). */
const cases: Array<[string, unknown]> = [
  ['a neighbourhood view', base],
  ['the full view (no id lists)', state({ view: undefined, cohortIds: undefined, survivorIds: undefined })],
  [
    'before U2 and U3 are fixed',
    state({ phase: 'sharing', survivors: null, survivorIds: null, maskedBy: null, sharesForMe: [] }),
  ],
  ['an extra top-level key', state({ extra: 1 })],
  ['a bad id in S', state({ cohortIds: edit(ids, 3, 'not an id!') })],
  ['a number in U2', state({ survivorIds: edit(ids, 0, 7) })],
  ['an id of 129 characters in U3', state({ maskedBy: edit(ids, 1, 'a'.repeat(129)) })],
  ['S as an object', state({ cohortIds: { 0: ids[0] } })],
  ['S null', state({ cohortIds: null })],
  ['U3 absent', state({ maskedBy: undefined })],
  ['survivors absent', state({ survivors: undefined })],
  ['shares null', state({ sharesForMe: null })],
  ['a survivor with an extra key (dropped)', state({ survivors: edit(survivors, 1, { ...survivors[1], mac: 'x' }) })],
  [
    'a survivor without its signature',
    state({ survivors: edit(survivors, 1, { ...survivors[1], signature: undefined }) }),
  ],
  [
    'a survivor key of 65 characters',
    state({ survivors: edit(survivors, 2, { ...survivors[2], maskPublicKey: 'A'.repeat(65) }) }),
  ],
  ['a survivor key with junk', state({ survivors: edit(survivors, 2, { ...survivors[2], maskPublicKey: 'AB=C' }) })],
  ['an empty survivor key', state({ survivors: edit(survivors, 2, { ...survivors[2], maskPublicKey: '' }) })],
  ['an upper-case digest', state({ survivors: edit(survivors, 0, { ...survivors[0], boxesSha256: 'AB'.repeat(32) }) })],
  ['a survivor that is an array', state({ survivors: edit(survivors, 0, [1, 2, 3, 4]) })],
  ['a survivor that is null', state({ survivors: edit(survivors, 0, null) })],
  ['a share box with an extra key (dropped)', state({ sharesForMe: edit(shares, 0, { ...shares[0], to: ids[0] }) })],
  [
    'a share box of 201 characters',
    state({ sharesForMe: edit(shares, 0, { ...shares[0], ciphertext: 'A'.repeat(201) }) }),
  ],
  ['a share box from a bad id', state({ sharesForMe: edit(shares, 0, { ...shares[0], from: '-x' }) })],
  ['a share box with a numeric nonce', state({ sharesForMe: edit(shares, 0, { ...shares[0], nonce: 5 }) })],
  ['a bad phase beside good lists', state({ phase: 'over' })],
  ['a bad cohort entry beside good lists', state({ cohort: [{ siteId: ids[0] }] })],
  ['a directory entry with an extra key (dropped)', state({ cohort: edit(cohort, 0, { ...cohort[0], x: 1 }) })],
  ['a directory entry with a bad id', state({ cohort: edit(cohort, 1, { ...cohort[1], siteId: 'a b' }) })],
  [
    'a directory signature of 201 characters',
    state({ cohort: edit(cohort, 2, { ...cohort[2], directorySignature: 'A'.repeat(201) }) }),
  ],
  ['a box key with junk', state({ cohort: edit(cohort, 3, { ...cohort[3], boxPublicKey: 'A=A' }) })],
  ['the cohort null', state({ cohort: null })],
  [
    'a __proto__ key in a survivor',
    JSON.parse(JSON.stringify(base).replace('"siteId":"site-000","maskPublicKey"', '"__proto__":{},"maskPublicKey"')),
  ],
  ['not an object', [base]],
  ['null', null],
];

test.each(cases)('gives what SecaggStateSchema gives: %s', (_, value) => {
  const expected = SecaggStateSchema.safeParse(value);
  const got = new SecaggStateParser().safeParse(value);
  expect(got.success).toBe(expected.success);
  if (got.success && expected.success) expect(got.data).toEqual(expected.data);
});

test('the valid answers are not all refused (the table above checks something)', () => {
  expect(cases.filter(([, v]) => SecaggStateSchema.safeParse(v).success).length).toBeGreaterThanOrEqual(6);
  expect(cases.filter(([, v]) => !SecaggStateSchema.safeParse(v).success).length).toBeGreaterThanOrEqual(15);
});

test("isB64 accepts exactly what the schema's base64 pattern and length bounds accept", () => {
  const re = /^[A-Za-z0-9+/]+={0,2}$/;
  const chars = fc.constantFrom(...'Aa09+/=-_ \n\u00e9\u{1F600}'.split(''), 'Z', 'z');
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 12 }), fc.integer({ min: 0, max: 12 }), (cs, max) => {
      const x = cs.join('');
      expect(isB64(x, max)).toBe(x.length >= 1 && x.length <= max && re.test(x));
    }),
    { numRuns: 5000 },
  );
  for (const x of ['A', 'A=', 'A==', 'AB==', 'QUJD']) expect(isB64(x, 64)).toBe(true);
  for (const x of ['', '=', '==', 'A===', '=A', 'A=B', 'A\n', 'Ä']) expect(isB64(x, 64)).toBe(false);
  expect(isB64(5, 64)).toBe(false);
});
