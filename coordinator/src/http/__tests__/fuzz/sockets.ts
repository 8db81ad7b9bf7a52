import fc from 'fast-check';
import { io as connect, type Socket } from 'socket.io-client';
import { SITE_NAMESPACE, generateIdentity, limits, signHandshake, toB64 } from '@twinfed/shared';
import type { Signer, World } from './world';

/** How the handshake `auth` is made: signed right, signed wrong, or not a handshake at all. */
export type AuthSpec =
  | { kind: 'valid'; signer: Signer['label'] }
  | {
      kind: 'broken';
      signer: Signer['label'];
      how:
        | 'stale'
        | 'future'
        | 'bad-signature'
        | 'other-key'
        | 'replay'
        | 'wrong-types'
        | 'missing-field'
        | 'extra-field'
        | 'huge';
    }
  | { kind: 'junk'; value: unknown };

/** One emit after connecting. `args` are the event's arguments; `ack`: a callback is passed last. */
export interface Emit {
  event: string;
  args: unknown[];
  ack: boolean;
}

/** A socket.io connection attempt and what the client does once connected. */
export interface SocketCase {
  namespace: string;
  auth: AuthSpec;
  emits: Emit[];
  /** The coordinator serves WebSocket only: a polling attempt must be refused. */
  transport: 'websocket' | 'polling';
}

/** What happened: connected or refused (and how), the acks, and any violation of what the coordinator promises. */
export interface SocketOutcome {
  result: 'connected' | 'refused' | 'closed' | 'timeout';
  message?: string;
  acks: number;
  violation?: string;
}

const labels = fc.constantFrom<Signer['label']>('member', 'member2', 'outsider', 'revoked', 'stranger');
const status = fc.oneof(
  fc.record({ state: fc.constantFrom('idle', 'training', 'uploading', 'evaluating') }, { requiredKeys: ['state'] }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, undefined, '', 0, [], { state: 'x'.repeat(10_000) }, { __proto__: { polluted: true } }),
  fc.uint8Array({ maxLength: 64 }),
);

export const socketCase: fc.Arbitrary<SocketCase> = fc.record({
  namespace: fc.oneof(
    { weight: 8, arbitrary: fc.constant(SITE_NAMESPACE) },
    fc.constantFrom('/', '/admin', '/sites/', '/SITES', '/sites/../', '/\u00e9', `/${'n'.repeat(500)}`),
  ),
  auth: fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('valid' as const), signer: labels }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('broken' as const),
        signer: labels,
        how: fc.constantFrom(
          'stale',
          'future',
          'bad-signature',
          'other-key',
          'replay',
          'wrong-types',
          'missing-field',
          'extra-field',
          'huge',
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('junk' as const),
        value: fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant({})),
      }),
    },
  ),
  emits: fc.array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          event: fc.constant('site:status'),
          args: fc.array(status, { minLength: 1, maxLength: 1 }),
          ack: fc.boolean(),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          event: fc.constant('site:status'),
          args: fc.array(status, { maxLength: 3 }),
          ack: fc.boolean(),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          event: fc.constantFrom(
            'round:opened',
            'model:published',
            'x',
            '__proto__',
            'constructor',
            'hasOwnProperty',
            'site:status ',
            '\u0000',
            'e'.repeat(300),
          ),
          args: fc.array(status, { maxLength: 2 }),
          ack: fc.boolean(),
        }),
      },
    ),
    { maxLength: 4 },
  ),
  transport: fc.oneof({ weight: 4, arbitrary: fc.constant('websocket' as const) }, fc.constant('polling' as const)),
});

const stranger = generateIdentity();
const replayable = new Map<string, object>();

function authOf(spec: AuthSpec, w: World): unknown {
  if (spec.kind === 'junk') return spec.value;
  const signer = w.signers.find((s) => s.label === spec.signer)!;
  const sign = (o: { now?: number; key?: Uint8Array } = {}) =>
    signHandshake({
      siteId: signer.siteId,
      signSecretKey: o.key ?? signer.identity.sign.secretKey,
      ...(o.now !== undefined ? { now: o.now } : {}),
    });
  if (spec.kind === 'valid') return sign();
  const window = limits.requestWindowMs;
  switch (spec.how) {
    case 'stale':
      return sign({ now: Date.now() - window - 1000 });
    case 'future':
      return sign({ now: Date.now() + window + 1000 });
    case 'bad-signature':
      return { ...sign(), signature: toB64(new Uint8Array(64).fill(9)) };
    case 'other-key':
      return sign({ key: stranger.sign.secretKey });
    case 'replay': {
      // The first use of this auth may connect (it is valid); every later one is a replay.
      const earlier = replayable.get(signer.siteId) ?? sign();
      replayable.set(signer.siteId, earlier);
      return earlier;
    }
    case 'wrong-types':
      return { ...sign(), timestamp: String(Date.now()), nonce: 42 };
    case 'missing-field': {
      const { nonce: _n, ...rest } = sign();
      return rest;
    }
    case 'extra-field':
      return { ...sign(), admin: true, __proto__: { x: 1 } };
    case 'huge':
      return { ...sign(), pad: 'p'.repeat(200_000) };
  }
}

/** True when the coordinator must accept this handshake (WebSocket only). `replay` may go either way (its first use is valid). */
function mustConnect(c: SocketCase): boolean {
  return (
    c.transport === 'websocket' &&
    c.namespace === SITE_NAMESPACE &&
    c.auth.kind === 'valid' &&
    ['member', 'member2', 'outsider'].includes(c.auth.signer)
  );
}
function mayConnect(c: SocketCase): boolean {
  return (
    mustConnect(c) ||
    (c.transport === 'websocket' &&
      c.namespace === SITE_NAMESPACE &&
      c.auth.kind === 'broken' &&
      ['replay', 'extra-field'].includes(c.auth.how) &&
      ['member', 'member2', 'outsider'].includes(c.auth.signer))
  );
}

/** Runs one socket case against the world's coordinator; never waits longer than `timeoutMs` in all. */
export async function runSocketCase(c: SocketCase, w: World, timeoutMs: number): Promise<SocketOutcome> {
  const socket: Socket = connect(w.c.url + c.namespace, {
    transports: [c.transport],
    reconnection: false,
    forceNew: true,
    autoUnref: true,
    timeout: timeoutMs,
    auth: authOf(c.auth, w) as object,
  });
  const deadline = Date.now() + timeoutMs;
  try {
    const first = await new Promise<{ result: SocketOutcome['result']; message?: string }>((resolve) => {
      const timer = setTimeout(() => resolve({ result: 'timeout' }), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve({ result: 'connected' });
      });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        resolve({ result: 'refused', message: err.message });
      });
      socket.once('disconnect', (reason) => {
        clearTimeout(timer);
        resolve({ result: 'closed', message: reason });
      });
    });
    if (first.result === 'timeout') return { ...first, acks: 0, violation: 'no answer to the handshake' };
    if (first.result === 'connected' && !mayConnect(c))
      return { ...first, acks: 0, violation: 'connected without a valid site handshake' };
    if (
      first.result !== 'connected' &&
      mustConnect(c) &&
      !(c.auth.kind === 'valid' && first.message === 'RATE_LIMITED')
    )
      return { ...first, acks: 0, violation: `a valid site handshake was refused (${first.message})` };
    if (first.result !== 'connected') return { ...first, acks: 0 };
    let acks = 0;
    for (const e of c.emits) {
      if (!socket.connected) break;
      const left = Math.max(100, deadline - Date.now());
      if (!e.ack) {
        socket.emit(e.event, ...e.args);
        continue;
      }
      // The coordinator acks a status with its clock; an ack for anything else, or a status without its one argument, is not owed.
      const owed = e.event === 'site:status' && e.args.length === 1;
      const answer = await socket
        .timeout(Math.min(left, owed ? 2000 : 150))
        .emitWithAck(e.event, ...e.args)
        .then(
          (v: unknown) => ({ v }),
          (err: unknown) => ({ err }),
        );
      if ('v' in answer) {
        acks++;
        if (typeof answer.v !== 'string' || Number.isNaN(Date.parse(answer.v)))
          return { result: 'connected', acks, violation: `ack is not a time: ${JSON.stringify(answer.v)}` };
      } else if (owed && socket.connected)
        return { result: 'connected', acks, violation: 'a status with an ack callback got no ack' };
    }
    return { result: 'connected', acks };
  } finally {
    socket.removeAllListeners();
    socket.disconnect();
  }
}
