import { CurrentRoundSchema, canonicalJson } from '@twinfed/shared';
import { CurrentRoundParser } from './current-round-parser';

const planInput = {
  name: 'p',
  model: { kind: 'logistic-regression', inputs: 2 },
  data: { features: ['a', 'b'] },
  strategy: { name: 'fedavg' },
  training: { steps: 1 },
  rounds: 3,
  minSites: 2,
};
const answer = (over: { plan?: unknown; currentRound?: number; extra?: Record<string, unknown> } = {}) => ({
  federation: {
    id: 'fed-1',
    name: 'f',
    state: 'running',
    plan: 'plan' in over ? over.plan : planInput,
    currentRound: over.currentRound ?? 1,
    latestVersionId: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over.extra,
  },
  round: null,
  selected: true,
  submitted: false,
  clientConfig: {},
});

test('gives what CurrentRoundSchema gives, answer after answer, the plan parsed once per change of it', () => {
  const parser = new CurrentRoundParser();
  const answers = [
    answer(),
    answer({ currentRound: 2 }), // the same plan: reused
    answer({ plan: { ...planInput, rounds: 4 } }), // another plan: parsed
    answer({ plan: { ...planInput, rounds: 'four' } }), // an invalid plan: refused, even right after a valid one
    answer({ plan: { ...planInput, rounds: 4 } }),
    answer({ currentRound: 'two' as unknown as number }), // an invalid field beside a known plan: refused
    answer({ plan: undefined }),
    { ...answer(), federation: undefined },
    answer({ currentRound: 3 }),
  ];
  expect(answers.map((a) => CurrentRoundSchema.safeParse(a).success)).toEqual([
    true,
    true,
    true,
    false,
    true,
    false,
    false,
    false,
    true,
  ]);
  for (const a of answers) {
    const expected = CurrentRoundSchema.safeParse(a);
    const got = parser.safeParse(a);
    expect(got.success).toBe(expected.success);
    if (got.success && expected.success) expect(got.data).toEqual(expected.data);
  }
});

test('a plan a caller changed does not change the next answer', () => {
  const parser = new CurrentRoundParser();
  const first = parser.safeParse(answer());
  if (!first.success) throw new Error('refused');
  first.data.federation.plan.rounds = 99;
  first.data.federation.plan.data.features.push('c');
  const second = parser.safeParse(answer({ currentRound: 2 }));
  if (!second.success) throw new Error('refused');
  expect(second.data.federation.plan).toEqual(CurrentRoundSchema.parse(answer()).federation.plan);
  second.data.federation.plan.rounds = 98;
  const third = parser.safeParse(answer({ currentRound: 3 }));
  expect(third.success && third.data.federation.plan.rounds).toBe(3);
});

test('a reused plan is made of plain objects of this realm: the plan digest (canonical JSON) accepts it', () => {
  // structuredClone builds its copy with the outer realm's prototypes under jest (and in any other vm context), which
  // canonicalJson refuses as "not a plain object": the site's every tick then failed after the first answer.
  const parser = new CurrentRoundParser();
  for (let i = 0; i < 3; i++) {
    const r = parser.safeParse(answer({ currentRound: i + 1 }));
    if (!r.success) throw new Error('refused');
    expect(Object.getPrototypeOf(r.data.federation.plan)).toBe(Object.prototype);
    expect(() => canonicalJson(r.data.federation.plan)).not.toThrow();
  }
});
