import http from 'node:http';
import type net from 'node:net';
import { startRoundRobinProxy } from './round-robin-proxy';

/** A backend that answers every request with its own name. */
async function backend(name: string) {
  const server = http.createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: { host: '127.0.0.1', port },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One request on a fresh connection (no keep-alive): the backend's name, or the error's code. */
function ask(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(body));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('round-robin proxy', () => {
  test('spreads connections over the backends in turn', async () => {
    const [a, b, c] = [await backend('a'), await backend('b'), await backend('c')];
    cleanup.push(a.close, b.close, c.close);
    const proxy = await startRoundRobinProxy({ backends: [a.address, b.address, c.address] });
    cleanup.push(proxy.close);
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await ask(proxy.url));
    expect(seen).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(proxy.stats().forwarded).toEqual([2, 2, 2]);
  });

  test('skips a backend that refuses, and refuses the client when none accepts', async () => {
    const [a, b, c] = [await backend('a'), await backend('b'), await backend('c')];
    cleanup.push(a.close, c.close);
    const proxy = await startRoundRobinProxy({ backends: [a.address, b.address, c.address] });
    cleanup.push(proxy.close);
    await b.close();
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await ask(proxy.url));
    expect(seen).toEqual(['a', 'c', 'c', 'a']);
    expect(proxy.stats().failed).toEqual([0, 1, 0]);

    await a.close();
    await c.close();
    expect(await ask(proxy.url)).toBe('ECONNRESET');
    expect(proxy.stats().refused).toBe(1);
  });

  test('a replaced backend takes the place of the old one', async () => {
    const [a, b, c] = [await backend('a'), await backend('b'), await backend('c')];
    cleanup.push(a.close, b.close, c.close);
    const proxy = await startRoundRobinProxy({ backends: [a.address, b.address] });
    cleanup.push(proxy.close);
    proxy.setBackend(1, c.address);
    expect([await ask(proxy.url), await ask(proxy.url)]).toEqual(['a', 'c']);
  });
});
