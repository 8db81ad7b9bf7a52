import http from 'node:http';
import net from 'node:net';
import { bodyBytes } from './bodies';
import { targetOf, type FuzzCase, type HttpCase, type RawCase } from './cases';
import { credentialHeaders } from './credentials';
import type { World } from './world';

/** What came back. `status` null: no answer (`error` says why); `timedOut`: nothing within the deadline. */
export interface Outcome {
  status: number | null;
  /** The `error.code` of a JSON error body. */
  code?: string;
  /** Content type of the answer. */
  type?: string;
  error?: string;
  timedOut: boolean;
  /** True when the case meant to hang up without waiting. */
  aborted: boolean;
  /** Time to the answer (or the hang-up). */
  ms?: number;
}

/** Largest answer body kept for inspection (the rest is read and dropped). */
const KEEP_BYTES = 64 * 1024;

/** Sends one case; never rejects, never waits longer than `timeoutMs`. */
export async function send(c: FuzzCase, w: World, agent: http.Agent, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  const o = await (c.transport === 'raw' ? sendRaw(c, w, timeoutMs) : sendHttp(c, w, agent, timeoutMs, true));
  return { ...o, ms: Math.round(performance.now() - started) };
}

function sendHttp(c: HttpCase, w: World, agent: http.Agent, timeoutMs: number, retry: boolean): Promise<Outcome> {
  const path = targetOf(c);
  const sealer =
    w.signers.find((s) => c.credential.kind === 'site' && s.label === c.credential.signer) ?? w.signers[0]!;
  const body = bodyBytes(c.body, w, sealer, c.params);
  const headers: Record<string, string | string[]> = {
    ...credentialHeaders(c.credential, w, { method: c.method, path, body: body ?? new Uint8Array(0) }),
  };
  const binary = c.route?.body === 'binary';
  if (c.headers.contentType === 'auto') {
    if (body) headers['content-type'] = binary ? 'application/octet-stream' : 'application/json';
  } else if (c.headers.contentType !== null) headers['content-type'] = c.headers.contentType;
  if (c.headers.contentEncoding !== null) headers['content-encoding'] = c.headers.contentEncoding;
  for (const [k, v] of c.headers.extra) headers[k] = v;
  const f = c.headers.framing;
  // A connection whose framing is off (declared length ≠ bytes sent) is never reused; nor one with odd headers (node
  // answers `Expect: tea` with 417 before reading the body, which it then parses as the next request on the connection).
  const fresh = f.kind !== 'auto' || c.headers.extra.length > 0;
  if (f.kind === 'declared') headers['content-length'] = f.length;
  // node's client sends a GET body with neither Content-Length nor chunking unless told: frame it as any client would.
  else if (f.kind === 'auto' && body && body.length > 0) headers['content-length'] = String(body.length);
  if (f.kind === 'chunked') headers['transfer-encoding'] = 'chunked';
  // A declared-but-unsent body is cut by the server's minimum body rate after its grace period: send at most 64 bytes.
  const payload = f.kind === 'declared' ? body?.subarray(0, 64) : body;

  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(o);
    };
    const signal = AbortSignal.timeout(timeoutMs);
    let req: http.ClientRequest;
    try {
      req = http.request(
        w.c.url + '/',
        { method: c.method, path, headers, agent: fresh ? false : agent, signal, setHost: !('host' in headers) },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (d: Buffer) => {
            if (kept < KEEP_BYTES) chunks.push(d);
            kept += d.length;
          });
          res.on('error', (e) =>
            done({
              status: res.statusCode ?? null,
              error: `response: ${e.message}`,
              timedOut: signal.aborted,
              aborted: false,
            }),
          );
          res.on('end', () => {
            const type = res.headers['content-type'];
            let code: string | undefined;
            if (type?.startsWith('application/json') && c.method !== 'HEAD') {
              try {
                code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error
                  ?.code;
              } catch {
                code = '<unparsable json>';
              }
            }
            done({
              status: res.statusCode ?? null,
              ...(code ? { code } : {}),
              ...(type ? { type } : {}),
              timedOut: false,
              aborted: false,
            });
            if (fresh) req.destroy();
          });
        },
      );
    } catch (e) {
      // node's client refused to send it (e.g. a header value it will not encode): not a request, not counted.
      done({ status: null, error: `client refused: ${(e as Error).message}`, timedOut: false, aborted: false });
      return;
    }
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (settled) return;
      if (signal.aborted) return done({ status: null, error: 'timeout', timedOut: true, aborted: false });
      // node's documented pattern: a kept-alive socket the server closed just as we reused it. Retry once, fresh.
      if (retry && req.reusedSocket && e.code === 'ECONNRESET') {
        settled = true;
        void sendHttp(c, w, agent, timeoutMs, false).then(resolve);
        return;
      }
      done({ status: null, error: e.code ?? e.message, timedOut: false, aborted: false });
    });
    if (payload && payload.length > 0) {
      if (f.kind === 'chunked' && payload.length > 1) {
        req.write(payload.subarray(0, payload.length >> 1));
        req.end(payload.subarray(payload.length >> 1));
      } else req.end(payload);
    } else req.end();
  });
}

/** Raw bytes on a fresh connection; reads the status line of the answer, or hangs up after `abortAfterMs`. */
function sendRaw(c: RawCase, w: World, timeoutMs: number): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let data = '';
    let settled = false;
    const socket = net.connect(w.c.port, '127.0.0.1');
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const parsed = (): Outcome => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      const code = /"code":"([A-Z_]+)"/.exec(data)?.[1];
      return {
        status: status ? Number(status) : null,
        ...(code ? { code } : {}),
        ...(status ? {} : { error: 'closed without an answer' }),
        timedOut: false,
        aborted: false,
      };
    };
    const timer = setTimeout(
      () =>
        finish(
          c.abortAfterMs !== null
            ? { status: null, timedOut: false, aborted: true }
            : { ...parsed(), status: null, error: 'timeout', timedOut: true },
        ),
      c.abortAfterMs ?? timeoutMs,
    );
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.length > KEEP_BYTES) finish(parsed());
    });
    socket.on('error', () => undefined); // the outcome is read at close
    socket.on('close', () =>
      finish(c.abortAfterMs !== null && !data ? { status: null, timedOut: false, aborted: true } : parsed()),
    );
    socket.write(Buffer.from(c.text, 'utf8'));
  });
}
