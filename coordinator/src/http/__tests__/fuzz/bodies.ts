import fc from 'fast-check';
import {
  CohortAnswerSchema,
  CohortPoolContributionSchema,
  CreateApiTokenSchema,
  CreateCohortQuerySchema,
  CreateInvitationSchema,
  EvaluationReportSchema,
  PlanSchema,
  PopulationReportSchema,
  SecaggRevealSchema,
  SecaggSharesSchema,
  SiteDecisionRequestSchema,
  StatsContributionSchema,
  generateIdentity,
  planDigest,
  serializeWeights,
  toB64,
} from '@twinfed/shared';
import { testPlan } from '../../../__tests__/harness';
import { sealRawUpdate } from '../../../__tests__/hostile-envelope';
import { populationReport } from '../../../__tests__/population-report';
import { enrollBody, type Signer, type World } from './world';

/** A request body, described; bytes are made when the request leaves (envelopes are sealed then). */
export type BodySpec =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'envelope'; variant: EnvelopeVariant; n: number };

/** Update envelopes, every one refused: sealed right around wrong contents, or wrong around right contents. */
export type EnvelopeVariant =
  | 'random-plaintext'
  | 'nan-weights'
  | 'wrong-base'
  | 'wrong-round'
  | 'wrong-federation'
  | 'other-site'
  | 'bad-examples'
  | 'flip-tail'
  | 'truncated'
  | 'magic-huge-header'
  | 'duplicate';
const ENVELOPES: EnvelopeVariant[] = [
  'random-plaintext',
  'nan-weights',
  'wrong-base',
  'wrong-round',
  'wrong-federation',
  'other-site',
  'bad-examples',
  'flip-tail',
  'truncated',
  'magic-huge-header',
  'duplicate',
];

/** Schema checks a JSON body must pass before the route writes anything: a body they accept is never sent with a credential that could be valid. */
export const WRITE_SCHEMAS: Readonly<Record<string, (v: unknown) => boolean>> = {
  'POST /v1/federations': (v) =>
    typeof v === 'object' && v !== null && PlanSchema.safeParse((v as { plan?: unknown }).plan).success,
  'POST /v1/admin/invitations': (v) => CreateInvitationSchema.safeParse(v).success,
  'POST /v1/admin/tokens': (v) => CreateApiTokenSchema.safeParse(v).success,
  'POST /v1/models/:vid/evaluations': (v) => EvaluationReportSchema.safeParse(v).success,
  'POST /v1/population/reports': (v) => PopulationReportSchema.safeParse(v).success,
  'POST /v1/federations/:fid/stats': (v) => StatsContributionSchema.safeParse(v).success,
  'POST /v1/federations/:fid/rounds/:round/secagg/shares': (v) => SecaggSharesSchema.safeParse(v).success,
  'POST /v1/federations/:fid/rounds/:round/secagg/reveal': (v) => SecaggRevealSchema.safeParse(v).success,
  'PUT /v1/federations/:fid/decision': (v) => SiteDecisionRequestSchema.safeParse(v).success,
  'PUT /v1/federations/:fid/plan': (v) =>
    typeof v === 'object' && v !== null && PlanSchema.safeParse((v as { plan?: unknown }).plan).success,
  'POST /v1/cohort-queries': (v) => CreateCohortQuerySchema.safeParse(v).success,
  'PUT /v1/cohort-queries/:qid/answers': (v) => CohortAnswerSchema.safeParse(v).success,
  'POST /v1/cohort-queries/:qid/pool': (v) => CohortPoolContributionSchema.safeParse(v).success,
};

const identities = [generateIdentity(), generateIdentity()];
const b64 = (n: number, fill: number) => toB64(new Uint8Array(n).fill(fill));

/** Well-formed bodies of each JSON route (the fuzz mutates them; unmutated ones are neutralised where they could write). */
function templates(w: World): Record<string, unknown[]> {
  const [a, b] = [w.signers[0]!.siteId, w.signers[1]!.siteId];
  const version = w.plain.versions.at(-1)!;
  return {
    'POST /v1/federations': [{ plan: testPlan() }, { plan: testPlan({ strategy: { name: 'median' }, rounds: 1 }) }],
    'POST /v1/enroll': [
      enrollBody(w.coordinatorKeys, w.spentInvitation, identities[0]!),
      enrollBody(w.coordinatorKeys, 'tfe_' + 'A'.repeat(43), identities[1]!),
      { ...enrollBody(w.coordinatorKeys, w.spentInvitation, identities[1]!), proof: undefined },
    ],
    'POST /v1/admin/invitations': [{ siteName: 'Fuzz New', ttlSeconds: 3600 }, { siteName: 'Fuzz North' }],
    'POST /v1/admin/tokens': [
      { name: 'fuzz token', role: 'researcher', studies: ['default'] },
      { name: 'fuzz op', role: 'operator' },
    ],
    'POST /v1/models/:vid/evaluations': [{ n: 10, metrics: { accuracy: 0.8, auc: 0.7, loss: 0.4 } }],
    'POST /v1/population/reports': [populationReport(version)],
    'POST /v1/federations/:fid/stats': [{ masked: b64(56, 7) }],
    'POST /v1/federations/:fid/rounds/:round/secagg/shares': [
      { maskPublicKey: b64(32, 1), shares: [a, b].map((to) => ({ to, nonce: b64(24, 2), ciphertext: b64(80, 3) })) },
    ],
    'PUT /v1/federations/:fid/decision': [
      { decision: 'approved', planSha256: planDigest(PlanSchema.parse(w.plain.plan)) },
      { decision: 'revoked', planSha256: '0'.repeat(64) },
    ],
    'PUT /v1/federations/:fid/plan': [{ plan: testPlan({ rounds: 4 }) }, { plan: { ...testPlan(), rounds: 0 } }],
    'POST /v1/cohort-queries': [
      { studyId: 'default', query: { title: 'fuzz', source: { kind: 'csv' } } },
      {
        studyId: 'default',
        query: {
          title: 'fuzz twins',
          source: { kind: 'twins' },
          groupBy: [{ kind: 'ageBand', cuts: [18, 65] }],
          summaries: { features: ['age'], pooled: true },
        },
      },
    ],
    'PUT /v1/cohort-queries/:qid/answers': [
      { kind: 'refusal', reason: 'NO_DATA' },
      {
        kind: 'table',
        table: { k: 10, epsilon: null, cells: [{ levels: [], count: 12 }], total: 12, suppressedCells: 0 },
      },
    ],
    'POST /v1/cohort-queries/:qid/pool': [{ masked: b64(24, 7) }],
    'POST /v1/federations/:fid/rounds/:round/secagg/reveal': [
      { seedShares: [], maskKeyShares: [] },
      { seedShares: [{ of: a, share: b64(33, 4) }], maskKeyShares: [{ of: b, share: b64(33, 5) }] },
    ],
  };
}

/** Values that break parsers and validators in their own ways. */
const nasty: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    '',
    -1,
    0,
    1e308,
    -1e308,
    2 ** 53 + 1,
    1.5,
    true,
    null,
    [],
    {},
    'x'.repeat(5000),
    '\u0000',
    '\u202e',
    'Fuzz N\u043erth',
    '../../etc/passwd',
    '<script>',
    '%s%s%n',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

type Mutation =
  | { op: 'none' }
  | { op: 'delete'; at: number }
  | { op: 'replace'; at: number; value: unknown }
  | { op: 'add'; at: number; key: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Mutation>({ op: 'none' }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('replace' as const), at: fc.nat(), value: nasty }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      at: fc.nat(),
      key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'extra', 'plan', 'n'), fc.string({ maxLength: 8 })),
      value: nasty,
    }),
  },
);

/** Applies one mutation to a deep copy of `value` at the `at`-th node (depth-first). */
function mutate(value: unknown, m: Mutation): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(value));
  if (m.op === 'none') return copy;
  const containers: Array<{ parent: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node))
      node.forEach((v, i) => {
        containers.push({ parent: node, key: i });
        walk(v);
      });
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node)) {
        containers.push({ parent: node as Record<string, unknown>, key: k });
        walk(v);
      }
  };
  walk(copy);
  if (m.op === 'add') {
    const objects = [copy, ...containers.map((c) => (c.parent as Record<string, unknown>)[c.key as string])].filter(
      (o): o is Record<string, unknown> => !!o && typeof o === 'object' && !Array.isArray(o),
    );
    const target = objects[m.at % Math.max(1, objects.length)];
    if (target)
      Object.defineProperty(target, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
    return copy;
  }
  const spot = containers[m.at % Math.max(1, containers.length)];
  if (!spot) return m.op === 'replace' ? m.value : copy;
  if (m.op === 'delete') {
    if (Array.isArray(spot.parent)) spot.parent.splice(spot.key as number, 1);
    else delete spot.parent[spot.key as string];
  } else (spot.parent as Record<string | number, unknown>)[spot.key] = m.value;
  return copy;
}

/** Text that is not quite JSON, or JSON no schema wants. */
const junkText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '{',
    '{"a":',
    '[1,2',
    '{"plan":}',
    'null',
    'true',
    '"str"',
    '1e400',
    '\ufeff{}',
    '{}garbage',
    '{"a":1,"a":2}',
    '[]',
    '{}',
    '['.repeat(5000) + ']'.repeat(5000),
    '{"x":'.repeat(3000),
    '\u0000',
  ),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
);

/** A body for a route: JSON routes get mutated templates, junk and nothing; the upload route gets envelopes and bytes. */
export function bodyFor(routeKey: string, binary: boolean, isGet: boolean, w: World): fc.Arbitrary<BodySpec> {
  const none = fc.constant<BodySpec>({ kind: 'none' });
  const bytes = fc.uint8Array({ maxLength: 2048 }).map<BodySpec>((b) => ({ kind: 'bytes', bytes: b }));
  const text = junkText.map<BodySpec>((t) => ({ kind: 'text', text: t }));
  const json = fc.jsonValue({ maxDepth: 4 }).map<BodySpec>((v) => ({ kind: 'json', value: v }));
  if (isGet)
    return fc.oneof(
      { weight: 17, arbitrary: none },
      { weight: 1, arbitrary: bytes },
      { weight: 1, arbitrary: text },
      { weight: 1, arbitrary: json },
    );
  if (binary) {
    // Envelopes sealed right around wrong contents reach deepest (decryption, weights, example claims, base version).
    const deep: EnvelopeVariant[] = ['random-plaintext', 'nan-weights', 'wrong-base', 'bad-examples', 'duplicate'];
    const variant = fc.oneof(
      { weight: 1, arbitrary: fc.constantFrom(...ENVELOPES) },
      { weight: 1, arbitrary: fc.constantFrom(...deep) },
    );
    const envelope = fc.record({ kind: fc.constant('envelope' as const), variant, n: fc.nat() });
    return fc.oneof(
      { weight: 12, arbitrary: envelope },
      { weight: 3, arbitrary: bytes },
      { weight: 1, arbitrary: text },
      { weight: 2, arbitrary: none },
    );
  }
  const tpl = templates(w)[routeKey];
  const mutated = tpl
    ? fc.tuple(fc.constantFrom(...tpl), mutation).map<BodySpec>(([t, m]) => ({ kind: 'json', value: mutate(t, m) }))
    : json;
  return fc.oneof(
    { weight: 10, arbitrary: mutated },
    { weight: 2, arbitrary: json },
    { weight: 2, arbitrary: text },
    { weight: 1, arbitrary: bytes },
    { weight: 3, arbitrary: none },
  );
}

/** The bytes of a body (envelopes are sealed now, by `sealer`, for the federation and round of the path when real). */
export function bodyBytes(
  spec: BodySpec,
  w: World,
  sealer: Signer,
  params: Record<string, string> = {},
): Uint8Array | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'json':
      return new TextEncoder().encode(JSON.stringify(spec.value) ?? 'null');
    case 'text':
      return new TextEncoder().encode(spec.text);
    case 'bytes':
      return spec.bytes;
    case 'envelope':
      return envelope(spec.variant, spec.n, w, sealer, params);
  }
}

function envelope(
  variant: EnvelopeVariant,
  n: number,
  w: World,
  sealer: Signer,
  params: Record<string, string>,
): Uint8Array {
  const weights = serializeWeights(w.baseWeights);
  // As a site would: sealed for the round it posts to (when the path names a real federation and a round number).
  const federationId = [w.plain.id, w.secure.id].includes(params.fid ?? '') ? params.fid! : w.plain.id;
  const round = /^[1-9][0-9]{0,8}$/.test(params.round ?? '') ? Number(params.round) : w.plain.openRound;
  const header = {
    federationId,
    round,
    siteId: sealer.siteId,
    baseVersionId: w.plain.versions.at(-1)!,
    numExamples: 20,
  };
  const seal = (h: Partial<typeof header>, plaintext: Uint8Array = weights) =>
    sealRawUpdate({
      header: { ...header, ...h },
      plaintext,
      identity: sealer.identity,
      coordinatorBoxPublicKey: w.coordinatorBoxPublicKey,
    });
  switch (variant) {
    case 'random-plaintext':
      return seal(
        {},
        new Uint8Array(n % 300).map((_, i) => (i * 131 + n) & 0xff),
      );
    case 'nan-weights': {
      const p = weights.slice();
      p.set([0x00, 0x00, 0xc0, 0x7f], p.length - 4);
      return seal({}, p);
    }
    case 'wrong-base':
      return seal({ baseVersionId: w.plain.versions[0]! });
    case 'wrong-round':
      return seal({ round: [round + 1, round - 1, 0, -1][n % 4]! });
    case 'wrong-federation':
      return seal({ federationId: [federationId === w.plain.id ? w.secure.id : w.plain.id, 'fed-00000000'][n % 2]! });
    case 'other-site': {
      // Another enrolled site's id in the header, sealed and signed by this one.
      const others = w.signers.filter((s) => s.siteId !== sealer.siteId && s.label !== 'stranger');
      return seal({ siteId: others[n % others.length]!.siteId });
    }
    case 'bad-examples':
      return seal({ numExamples: [0, -1, 1.5, 1e15, 2 ** 53][n % 5]! });
    case 'flip-tail': {
      const e = seal({});
      e[e.length - 1] = e[e.length - 1]! ^ (1 << (n % 8));
      return e;
    }
    case 'truncated': {
      const e = seal({});
      return e.subarray(0, n % e.length);
    }
    case 'magic-huge-header':
      return new Uint8Array([0x54, 0x57, 0x46, 0x55, 1, 0xff, 0xff, 0xff, 0x7f, 0x7b]);
    case 'duplicate':
      return w.roundOneEnvelopes[sealer.siteId] ?? seal({ round: 1 });
  }
}
