import fc from 'fast-check';
import {
  CONTENT_SHA256_HEADER,
  MAC_HEADER,
  NONCE_HEADER,
  SIGNATURE_HEADER,
  SITE_HEADER,
  TIMESTAMP_HEADER,
  canonicalMacRequest,
  canonicalRequest,
  generateIdentity,
  limits,
  randomBytes,
  sha256,
  sha256Hex,
  signDigest,
  siteRequestMacKey,
  macOf,
  toB64,
} from '@twinfed/shared';
import type { Role } from '../../auth';
import type { Signer, World } from './world';

/** How a site request is signed or MAC'd: correctly, or with one thing wrong. */
export type SignMode =
  | 'valid'
  | 'both-proofs'
  | 'no-digest'
  | 'fixed-nonce'
  | 'wrong-path'
  | 'wrong-method'
  | 'wrong-body'
  | 'stale'
  | 'future'
  | 'bad-signature'
  | 'other-key'
  | 'garbled'
  | 'duplicate-header';

/** How a bearer token is presented. */
export type BearerForm =
  'ok' | 'trailing-space' | 'duplicate' | 'lowercase-scheme' | 'no-scheme' | 'double-space' | 'basic';

/** The credential of a generated request. */
export type Credential =
  | { kind: 'none' }
  | { kind: 'bearer'; token: 'operator' | 'researcher' | 'revoked' | 'random'; random: string; form: BearerForm }
  | {
      kind: 'site';
      signer: Signer['label'];
      /** A signature (request-signing.ts) or a MAC under the site's key with the coordinator (request-mac.ts). */
      scheme: 'signature' | 'mac';
      mode: SignMode;
      garble: number;
      nonceSlot: number;
      alsoBearer: boolean;
    };

const SIGN_MODES: SignMode[] = [
  'both-proofs',
  'wrong-path',
  'wrong-method',
  'wrong-body',
  'stale',
  'future',
  'bad-signature',
  'other-key',
  'garbled',
  'duplicate-header',
  'fixed-nonce',
  'no-digest',
];

/** Credentials: mostly real ones (so requests get past authentication), the rest broken in one way. */
export const credential: fc.Arbitrary<Credential> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Credential>({ kind: 'none' }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('bearer' as const),
      token: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('operator' as const, 'researcher' as const) },
        fc.constantFrom('revoked' as const, 'random' as const),
      ),
      random: fc.oneof(
        fc.string({ unit: 'grapheme-ascii', minLength: 0, maxLength: 80 }),
        fc
          .constantFrom('tfo_', 'tfr_')
          .chain((p) => fc.base64String({ minLength: 40, maxLength: 48 }).map((s) => p + s)),
      ),
      form: fc.oneof(
        { weight: 8, arbitrary: fc.constant<BearerForm>('ok') },
        fc.constantFrom<BearerForm>(
          'trailing-space',
          'duplicate',
          'lowercase-scheme',
          'no-scheme',
          'double-space',
          'basic',
        ),
      ),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('site' as const),
      signer: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom<Signer['label']>('member', 'member2') },
        fc.constantFrom<Signer['label']>('outsider', 'revoked', 'stranger'),
      ),
      scheme: fc.constantFrom('signature' as const, 'mac' as const),
      mode: fc.oneof(
        { weight: 8, arbitrary: fc.constant<SignMode>('valid') },
        { weight: 4, arbitrary: fc.constantFrom(...SIGN_MODES) },
      ),
      garble: fc.nat(12),
      nonceSlot: fc.nat(3),
      alsoBearer: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
    }),
  },
);

/** A credential for a route with `roles`: half the time one of the route's own (so the request gets past authentication), else any. */
export function credentialFor(roles: readonly Role[]): fc.Arbitrary<Credential> {
  const own: Array<fc.Arbitrary<Credential>> = [];
  if (roles.includes('site'))
    own.push(
      fc.record({
        kind: fc.constant('site' as const),
        signer: fc.constantFrom<Signer['label']>('member', 'member2'),
        scheme: fc.constantFrom('signature' as const, 'mac' as const),
        mode: fc.constant<SignMode>('valid'),
        garble: fc.constant(0),
        nonceSlot: fc.constant(0),
        alsoBearer: fc.constant(false),
      }),
    );
  for (const role of ['operator', 'researcher'] as const) {
    if (roles.includes(role))
      own.push(fc.constant<Credential>({ kind: 'bearer', token: role, random: '', form: 'ok' }));
  }
  return own.length === 0 ? credential : fc.oneof(fc.oneof(...own), credential);
}

/** True when the credential could authenticate as one of `roles` (conservative: may say true for a refusal). */
export function mayAuthenticate(cred: Credential, roles: readonly Role[]): boolean {
  if (roles.includes('public')) return true;
  if (cred.kind === 'bearer')
    return (
      (cred.token === 'operator' || cred.token === 'researcher') &&
      ['ok', 'trailing-space', 'duplicate'].includes(cred.form) &&
      roles.includes(cred.token)
    );
  if (cred.kind === 'site')
    return (
      ['member', 'member2', 'outsider'].includes(cred.signer) &&
      ['valid', 'no-digest', 'fixed-nonce'].includes(cred.mode) &&
      roles.includes('site')
    );
  return false;
}

const strangerIdentity = generateIdentity();
/** A few nonces reused on purpose: the first request that uses one consumes it, every later one is a replay. */
const FIXED_NONCES = [0, 1, 2, 3].map((i) => toB64(new Uint8Array(16).fill(0xa0 + i)));

/** Authentication headers for `cred` on a request (signed now: timestamps must be fresh when the request leaves). */
export function credentialHeaders(
  cred: Credential,
  w: World,
  req: { method: string; path: string; body: Uint8Array },
): Record<string, string | string[]> {
  if (cred.kind === 'none') return {};
  if (cred.kind === 'bearer') return bearerHeaders(cred, w);
  const signer = w.signers.find((s) => s.label === cred.signer)!;
  const headers = siteHeaders(cred, signer, w.coordinatorBoxPublicKey, req);
  return cred.alsoBearer ? { ...headers, authorization: `Bearer ${w.operatorToken}` } : headers;
}

function bearerHeaders(cred: Extract<Credential, { kind: 'bearer' }>, w: World): Record<string, string | string[]> {
  const token = {
    operator: w.operatorToken,
    researcher: w.researcherToken,
    revoked: w.revokedToken,
    random: cred.random,
  }[cred.token];
  // Header values must be latin-1 without control characters to leave node's client at all.
  const safe = token.replace(/[^\x20-\x7e]/g, '?');
  switch (cred.form) {
    case 'ok':
      return { authorization: `Bearer ${safe}` };
    case 'trailing-space':
      return { authorization: `Bearer ${safe}   ` };
    case 'duplicate':
      return { authorization: [`Bearer ${safe}`, 'Bearer junkjunkjunk'] };
    case 'lowercase-scheme':
      return { authorization: `bearer ${safe}` };
    case 'no-scheme':
      return { authorization: safe };
    case 'double-space':
      return { authorization: `Bearer  ${safe}` };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`operator:${safe}`).toString('base64')}` };
  }
}

function siteHeaders(
  cred: Extract<Credential, { kind: 'site' }>,
  signer: Signer,
  coordinatorBoxPublicKey: Uint8Array,
  req: { method: string; path: string; body: Uint8Array },
): Record<string, string | string[]> {
  const now = Date.now();
  const proofHeader = cred.scheme === 'mac' ? MAC_HEADER : SIGNATURE_HEADER;
  /** The proof of `parts` by `identity` (the signer's own, or a stranger's for 'other-key'), in the credential's scheme. */
  const prove = (parts: Parameters<typeof canonicalRequest>[0], identity: Signer['identity'], scheme = cred.scheme) => {
    if (scheme === 'signature') return toB64(signDigest(sha256(canonicalRequest(parts)), identity.sign.secretKey));
    const key = siteRequestMacKey({
      siteId: signer.siteId,
      siteBoxSecretKey: identity.box.secretKey,
      coordinatorBoxPublicKey,
    })!;
    return toB64(macOf(key, canonicalMacRequest(parts)));
  };
  const sign = (o: {
    method?: string;
    path?: string;
    bodySha256?: string;
    timestamp?: number;
    nonce?: string;
    identity?: Signer['identity'];
  }) => {
    const timestamp = o.timestamp ?? now;
    const nonce = o.nonce ?? toB64(randomBytes(16));
    const bodySha256 = o.bodySha256 ?? sha256Hex(req.body);
    const parts = {
      method: o.method ?? req.method,
      path: o.path ?? req.path,
      bodySha256,
      siteId: signer.siteId,
      timestamp,
      nonce,
    };
    return {
      [CONTENT_SHA256_HEADER]: bodySha256,
      [SITE_HEADER]: signer.siteId,
      [TIMESTAMP_HEADER]: String(timestamp),
      [NONCE_HEADER]: nonce,
      [proofHeader]: prove(parts, o.identity ?? signer.identity),
      ...(cred.mode === 'both-proofs'
        ? { [cred.scheme === 'mac' ? SIGNATURE_HEADER : MAC_HEADER]: prove(parts, signer.identity, otherScheme(cred)) }
        : {}),
    } as Record<string, string | string[]>;
  };
  const window = limits.requestWindowMs;
  switch (cred.mode) {
    case 'valid':
    case 'both-proofs':
      return sign({});
    case 'no-digest': {
      const { [CONTENT_SHA256_HEADER]: _digest, ...rest } = sign({});
      return rest;
    }
    case 'fixed-nonce':
      return sign({ nonce: FIXED_NONCES[cred.nonceSlot % FIXED_NONCES.length]! });
    case 'wrong-path':
      return sign({ path: req.path + 'x' });
    case 'wrong-method':
      return sign({ method: req.method === 'GET' ? 'POST' : 'GET' });
    case 'wrong-body':
      return sign({ bodySha256: sha256Hex(new Uint8Array([...req.body, 0x20])) });
    case 'stale':
      return sign({ timestamp: now - window - 1000 });
    case 'future':
      return sign({ timestamp: now + window + 1000 });
    case 'bad-signature':
      return { ...sign({}), [proofHeader]: toB64(randomBytes(cred.scheme === 'mac' ? 32 : 64)) };
    case 'other-key':
      return sign({ identity: strangerIdentity });
    case 'duplicate-header':
      return { ...sign({}), [SITE_HEADER]: [signer.siteId, signer.siteId] };
    case 'garbled':
      return garbled(sign({}), cred.garble, proofHeader);
  }
}

function otherScheme(cred: { scheme: 'signature' | 'mac' }): 'signature' | 'mac' {
  return cred.scheme === 'mac' ? 'signature' : 'mac';
}

/** One authentication header made malformed (or left out). */
function garbled(
  h: Record<string, string | string[]>,
  which: number,
  proofHeader: string,
): Record<string, string | string[]> {
  const out = { ...h };
  const variants: Array<() => void> = [
    () => (out[TIMESTAMP_HEADER] = 'abc'),
    () => (out[TIMESTAMP_HEADER] = '-1'),
    () => (out[TIMESTAMP_HEADER] = '99999999999999999999'),
    () => (out[TIMESTAMP_HEADER] = '1e12'),
    () => (out[NONCE_HEADER] = 'AAAA'),
    () => (out[NONCE_HEADER] = '!!!not base64!!!'),
    () => (out[proofHeader] = String(out[proofHeader]).slice(0, 40)),
    () => (out[SITE_HEADER] = 'site with spaces'),
    () => (out[SITE_HEADER] = 's'.repeat(300)),
    () => (out[SITE_HEADER] = 'sit\xe9-latin1'),
    () => (out[CONTENT_SHA256_HEADER] = String(out[CONTENT_SHA256_HEADER]).toUpperCase()),
    () => (out[CONTENT_SHA256_HEADER] = 'ab'),
    () => delete out[NONCE_HEADER],
  ];
  variants[which % variants.length]!();
  return out;
}
