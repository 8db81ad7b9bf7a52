import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { SITE_NAMESPACE, generateIdentity, type ServerToClientEvents } from '@twinfed/shared';
import { CoordinatorEndpoints } from './endpoints';
import { EventStream } from './event-stream';

const credentials = { siteId: 'site-a', signSecretKey: generateIdentity().sign.secretKey };

/** A socket.io server that accepts every handshake (the signature is the other test file's business). */
async function server() {
  const http = createServer();
  const io = new Server<Record<string, never>, ServerToClientEvents>(http);
  const connections: string[] = [];
  io.of(SITE_NAMESPACE).on('connection', (s) => connections.push(s.id));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return { url, io, connections, close: () => new Promise<void>((resolve) => void io.close(() => resolve())) };
}

/** A URL on 127.0.0.1 where nothing listens. */
async function closedUrl(): Promise<string> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const until = (stream: EventStream) =>
  new Promise<void>((resolve) => {
    if (stream.connected) return resolve();
    const off = stream.onConnection((s) => {
      if (s.connected) {
        off();
        resolve();
      }
    });
  });

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function stream(endpoints: CoordinatorEndpoints): EventStream {
  const s = new EventStream({ baseUrl: endpoints, credentials, backoff: { retries: 0, baseMs: 20, maxMs: 100 } });
  cleanups.push(() => s.close());
  return s;
}

describe('EventStream with several coordinator URLs', () => {
  test('a refused first URL moves the shared list to the second, where events arrive', async () => {
    const b = await server();
    cleanups.push(b.close);
    const endpoints = new CoordinatorEndpoints([await closedUrl(), b.url]);
    const s = stream(endpoints);
    const opened = new Promise((resolve) => s.on('round:opened', resolve));
    s.start();
    await until(s);
    expect(endpoints.current).toBe(b.url);
    expect(s.url).toBe(b.url);
    b.io.of(SITE_NAMESPACE).emit('round:opened', { federationId: 'f', round: 1, baseVersionId: 'v0', deadlineAt: 'x' });
    await expect(opened).resolves.toMatchObject({ federationId: 'f' });
  });

  test('when the HTTP transport fails over, the connected stream follows to the new URL', async () => {
    const a = await server();
    const b = await server();
    cleanups.push(a.close, b.close);
    const endpoints = new CoordinatorEndpoints([a.url, b.url]);
    const s = stream(endpoints);
    s.start();
    await until(s);
    expect(a.connections).toHaveLength(1);
    endpoints.failed(a.url); // what HttpTransport does on a refused or reset connection
    await new Promise<void>((resolve) => {
      const off = s.onConnection((c) => {
        if (c.connected) {
          off();
          resolve();
        }
      });
    });
    expect(s.url).toBe(b.url);
    expect(b.connections).toHaveLength(1);
  });

  test('the URL in use dies: the stream moves on to the next one', async () => {
    const a = await server();
    const b = await server();
    cleanups.push(b.close);
    const endpoints = new CoordinatorEndpoints([a.url, b.url]);
    const s = stream(endpoints);
    s.start();
    await until(s);
    const moved = new Promise<void>((resolve) => endpoints.onChange(() => resolve()));
    await a.close();
    await moved;
    await until(s);
    expect(s.url).toBe(b.url);
    expect(b.connections).toHaveLength(1);
  });
});
