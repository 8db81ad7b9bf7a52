import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import {
  SITE_NAMESPACE,
  generateIdentity,
  limits,
  verifyHandshake,
  type ClientToServerEvents,
  type ServerToClientEvents,
} from '@twinfed/shared';
import { EventStream } from './event-stream';

const site = generateIdentity();

interface Harness {
  url: string;
  io: Server<ClientToServerEvents, ServerToClientEvents>;
  http: HttpServer;
  nonces: string[];
  refuseNext: number;
  /** Each handshake's form (`mac` or `signature`). This server takes no MACs, as a coordinator from before them. */
  forms: string[];
  statuses: unknown[];
  /** Per status report: whether the site asked for an ack. */
  acksAsked: boolean[];
}

async function startServer(): Promise<Harness> {
  const http = createServer();
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http);
  const h: Harness = { url: '', io, http, nonces: [], refuseNext: 0, forms: [], statuses: [], acksAsked: [] };
  const ns = io.of(SITE_NAMESPACE);
  ns.use((socket, next) => {
    h.forms.push('mac' in (socket.handshake.auth as object) ? 'mac' : 'signature');
    try {
      const v = verifyHandshake({
        auth: socket.handshake.auth,
        signPublicKey: site.sign.publicKey,
        now: Date.now(),
        windowMs: limits.requestWindowMs,
      });
      if (h.nonces.includes(v.nonce)) throw new Error('replayed');
      h.nonces.push(v.nonce);
      if (h.refuseNext > 0) {
        h.refuseNext -= 1;
        throw new Error('not now');
      }
      next();
    } catch (e) {
      next(Object.assign(new Error((e as Error).message), { data: { code: 'UNAUTHENTICATED' } }));
    }
  });
  ns.on('connection', (socket) => {
    socket.on('site:status', (s, ack) => {
      h.statuses.push(s);
      h.acksAsked.push(typeof ack === 'function');
      if (typeof ack === 'function') ack('2025-01-01T00:00:00.000Z');
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  h.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return h;
}

async function stopServer(h: Harness): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    h.io.close(() => resolve()).catch(reject);
  });
}

function until(stream: EventStream, connected: boolean): Promise<void> {
  return new Promise((resolve) => {
    if (stream.connected === connected) return resolve();
    const off = stream.onConnection((s) => {
      if (s.connected === connected) {
        off();
        resolve();
      }
    });
  });
}

const streams: EventStream[] = [];
const servers: Harness[] = [];
afterEach(async () => {
  streams.splice(0).forEach((s) => s.close());
  await Promise.all(servers.splice(0).map(stopServer));
});

function open(h: Harness, boxKeys = false): EventStream {
  const s = new EventStream({
    baseUrl: h.url,
    credentials: {
      siteId: 'site-a',
      signSecretKey: site.sign.secretKey,
      ...(boxKeys
        ? { boxSecretKey: site.box.secretKey, coordinatorBoxPublicKey: generateIdentity().box.publicKey }
        : {}),
    },
    backoff: { retries: 0, baseMs: 20, maxMs: 100 },
  });
  streams.push(s);
  return s;
}

describe('EventStream', () => {
  test('connects with a signed handshake, delivers typed events and sends status reports without an ack', async () => {
    const h = await startServer();
    servers.push(h);
    const stream = open(h);
    const opened = new Promise((resolve) => stream.on('round:opened', resolve));
    stream.start();
    await until(stream, true);
    h.io
      .of(SITE_NAMESPACE)
      .emit('round:opened', { federationId: 'fed-1', round: 3, baseVersionId: 'v2', deadlineAt: 'x' });
    await expect(opened).resolves.toEqual({ federationId: 'fed-1', round: 3, baseVersionId: 'v2', deadlineAt: 'x' });
    await expect(stream.reportStatus({ state: 'training', federationId: 'fed-1', round: 3 })).resolves.toBe(true);
    const end = Date.now() + 5000;
    while (h.statuses.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    expect(h.statuses).toEqual([{ state: 'training', federationId: 'fed-1', round: 3 }]);
    // No ack asked: the coordinator sends nothing back (one frame less per report; nothing read the server time).
    expect(h.acksAsked).toEqual([false]);
  });

  test('a MAC’d handshake refused by a coordinator that takes no MACs: the next attempt is signed and connects', async () => {
    const h = await startServer();
    servers.push(h);
    const stream = open(h, true);
    stream.start();
    await until(stream, true);
    expect(h.forms).toEqual(['mac', 'signature']);
  });

  test('retries after the server refuses the handshake, signing each attempt afresh', async () => {
    const h = await startServer();
    servers.push(h);
    h.refuseNext = 2;
    const stream = open(h);
    const reasons: string[] = [];
    stream.onConnection((s) => s.reason && reasons.push(s.reason));
    stream.start();
    await until(stream, true);
    expect(reasons.filter((r) => r === 'UNAUTHENTICATED')).toHaveLength(2);
    expect(new Set(h.nonces).size).toBe(3);
  });

  test('reconnects after the server drops the site, and stays down after close()', async () => {
    const h = await startServer();
    servers.push(h);
    const stream = open(h);
    stream.start();
    await until(stream, true);
    h.io.of(SITE_NAMESPACE).disconnectSockets(true);
    await until(stream, false);
    await until(stream, true);
    expect(h.nonces).toHaveLength(2);
    stream.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(stream.connected).toBe(false);
    expect(h.nonces).toHaveLength(2);
  });

  test('reports no status while offline', async () => {
    const stream = new EventStream({
      baseUrl: 'http://127.0.0.1:9',
      credentials: { siteId: 'site-a', signSecretKey: site.sign.secretKey },
    });
    streams.push(stream);
    await expect(stream.reportStatus({ state: 'idle' })).resolves.toBe(false);
  });
});

describe('wss with a private CA', () => {
  test('the CA goes to the socket, and a refused certificate is reported by its TLS code', () => {
    const handlers = new Map<string, (arg: unknown) => void>();
    const seen: Array<{ url: string; ca: unknown }> = [];
    const fake = {
      on: (e: string, h: (arg: unknown) => void) => (handlers.set(e, h), fake),
      active: true,
      connected: false,
      removeAllListeners: () => fake,
      disconnect: () => fake,
    };
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const stream = new EventStream({
      baseUrl: 'https://coordinator.invalid:8470',
      credentials: { siteId: 'site-a', signSecretKey: site.sign.secretKey },
      ca: pem,
      connect: (url, opts) => {
        seen.push({ url, ca: (opts as { ca?: unknown }).ca });
        return fake as never;
      },
    });
    const states: Array<{ connected: boolean; reason?: string }> = [];
    stream.onConnection((s) => states.push(s));
    stream.start();
    expect(seen).toEqual([{ url: `https://coordinator.invalid:8470${SITE_NAMESPACE}`, ca: pem }]);
    handlers.get('connect_error')!(
      Object.assign(new Error('websocket error'), {
        description: Object.assign(new Error('self-signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      }),
    );
    expect(states).toEqual([{ connected: false, reason: 'SELF_SIGNED_CERT_IN_CHAIN' }]);
    stream.close();
  });
});
