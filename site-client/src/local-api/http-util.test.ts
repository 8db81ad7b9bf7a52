import type { ServerResponse } from 'node:http';
import { ERROR_CODES, TwinfedError, clientBehaviour, httpStatus, type ErrorCode } from '@twinfed/shared';
import { sendError } from './http-util';

/** A response that records what sendError writes. */
function recorder() {
  const seen: { status?: number; headers?: Record<string, string | number>; body?: string } = {};
  const res = {
    headersSent: false,
    writeHead(status: number, headers: Record<string, string | number>) {
      seen.status = status;
      seen.headers = headers;
      return res;
    },
    end(body?: string) {
      seen.body = body;
      return res;
    },
  };
  return { res: res as unknown as ServerResponse, seen };
}

// The error table decides, code by code: Retry-After goes with exactly the codes it makes retry-later.
test.each(Object.keys(ERROR_CODES) as ErrorCode[])(
  '%s: its status, its code, and Retry-After exactly when the table says retry-later',
  (code) => {
    const { res, seen } = recorder();
    sendError(res, new TwinfedError(code), 7);
    expect(seen.status).toBe(httpStatus(code));
    expect(JSON.parse(seen.body!)).toMatchObject({ error: { code } });
    expect(seen.headers!['retry-after']).toBe(clientBehaviour(code) === 'retry-later' ? '7' : undefined);
  },
);
