import {
  CLIENT_BEHAVIOURS,
  behaviourOf,
  clientBehaviour,
  hasBehaviour,
  isFatal,
  refusesRequest,
  type ClientBehaviour,
} from './client-behaviour';
import {
  ERROR_CODES,
  HTTP_ERROR_CODES,
  LOCAL_ERROR_CODES,
  LOCAL_FAILURE_STATUS,
  TwinfedError,
  httpStatus,
  isHttpErrorCode,
  type ErrorCode,
  type HttpErrorCode,
  type HttpErrorSpec,
  type LocalErrorSpec,
} from './errors';

const CODES = Object.keys(ERROR_CODES) as ErrorCode[];
const HTTP = Object.keys(HTTP_ERROR_CODES) as HttpErrorCode[];
const BEHAVIOURS = Object.keys(CLIENT_BEHAVIOURS) as ClientBehaviour[];
const withStatus = (...statuses: number[]) => HTTP.filter((c) => statuses.includes(HTTP_ERROR_CODES[c].status));

describe('the error table', () => {
  test('every code has a behaviour of the documented set, and a public message', () => {
    for (const code of CODES) {
      expect(BEHAVIOURS).toContain(clientBehaviour(code));
      expect(ERROR_CODES[code].message.length).toBeGreaterThan(0);
    }
  });

  test('every behaviour is documented and given to at least one code', () => {
    for (const b of BEHAVIOURS) {
      expect(CLIENT_BEHAVIOURS[b].length).toBeGreaterThan(20);
      expect(CODES.filter((c) => clientBehaviour(c) === b)).not.toEqual([]);
    }
  });

  test('HTTP and local codes are apart: no code in both, local codes carry no status and answer 500 if one escapes', () => {
    expect(Object.keys(LOCAL_ERROR_CODES).filter((c) => c in HTTP_ERROR_CODES)).toEqual([]);
    expect(CODES).toHaveLength(HTTP.length + Object.keys(LOCAL_ERROR_CODES).length);
    for (const code of Object.keys(LOCAL_ERROR_CODES) as ErrorCode[]) {
      expect(isHttpErrorCode(code)).toBe(false);
      expect('status' in ERROR_CODES[code]).toBe(false);
      expect(httpStatus(code)).toBe(LOCAL_FAILURE_STATUS);
      expect(new TwinfedError(code).status).toBe(LOCAL_FAILURE_STATUS);
    }
    for (const code of HTTP) expect(new TwinfedError(code).status).toBe(HTTP_ERROR_CODES[code].status);
  });

  test('429 and 503 are exactly the retry-later codes (the transport and the local API treat them alike)', () => {
    expect(withStatus(429, 503).sort()).toEqual(CODES.filter((c) => clientBehaviour(c) === 'retry-later').sort());
  });

  test('a server fault (5xx) is retried', () => {
    for (const code of HTTP.filter((c) => HTTP_ERROR_CODES[c].status >= 500))
      expect(['retry', 'retry-later']).toContain(clientBehaviour(code));
  });

  test('no server answers 502 or 504 (the transport reads those as a proxy that could not reach the coordinator)', () => {
    expect(withStatus(502, 504)).toEqual([]);
  });

  test('malformed or oversized input (400, 413, 415) is never retried: the same bytes get the same answer', () => {
    for (const code of withStatus(400, 413, 415)) expect(['retry', 'retry-later']).not.toContain(clientBehaviour(code));
  });

  test('a revoked or unknown site, a bad signature and a missing identity are fatal for the site', () => {
    for (const code of ['SITE_REVOKED', 'UNKNOWN_SITE', 'BAD_SIGNATURE', 'UNAUTHENTICATED'] as const) {
      expect(httpStatus(code)).toBe(code === 'SITE_REVOKED' ? 403 : 401);
      expect(clientBehaviour(code)).toBe('fatal-site');
    }
  });

  test('an answer fatal for the site is about identity or protocol (400, 401, 403), never a state conflict or a busy server', () => {
    for (const code of HTTP.filter((c) => clientBehaviour(c) === 'fatal-site'))
      expect([400, 401, 403]).toContain(HTTP_ERROR_CODES[code].status);
  });

  test('a round refusal is a conflict or a refusal of this site in this round (400, 403, 409)', () => {
    for (const code of HTTP.filter((c) => clientBehaviour(c) === 'skip-round'))
      expect([400, 403, 409]).toContain(HTTP_ERROR_CODES[code].status);
  });
});

describe('reading the behaviour', () => {
  test('each behaviour is exactly one of: repeat the step, drop this request, stop', () => {
    for (const b of BEHAVIOURS) {
      const repeat = b === 'retry' || b === 'retry-later';
      expect([repeat, refusesRequest(b), isFatal(b)].filter(Boolean)).toHaveLength(1);
    }
  });

  test("behaviourOf: a twinfed error its code's, anything else an unexpected local failure (INTERNAL)", () => {
    expect(behaviourOf(new TwinfedError('SITE_REVOKED'))).toBe('fatal-site');
    expect(behaviourOf(new Error('boom'))).toBe(clientBehaviour('INTERNAL'));
    expect(behaviourOf('boom')).toBe(clientBehaviour('INTERNAL'));
  });

  test('hasBehaviour matches the table', () => {
    for (const code of CODES)
      for (const b of BEHAVIOURS) expect(hasBehaviour(code, b)).toBe(clientBehaviour(code) === b);
  });
});

describe('the types', () => {
  test('a code without its client behaviour, or a local code with a status, does not compile', () => {
    // @ts-expect-error a code must name its client behaviour
    const missing = { X: { status: 400, message: 'x' } } satisfies Record<string, HttpErrorSpec>;
    // @ts-expect-error a behaviour outside the documented set
    const unknown = { X: { status: 400, message: 'x', client: 'ignore' } } satisfies Record<string, HttpErrorSpec>;
    // @ts-expect-error a local failure is never an HTTP answer: no status
    const local = { X: { status: 500, message: 'x', client: 'retry' } } satisfies Record<string, LocalErrorSpec>;
    // @ts-expect-error a server never answers 502 (the transport reads it as a proxy)
    const gateway = { X: { status: 502, message: 'x', client: 'retry' } } satisfies Record<string, HttpErrorSpec>;
    expect([missing, unknown, local, gateway]).toHaveLength(4);
  });
});
