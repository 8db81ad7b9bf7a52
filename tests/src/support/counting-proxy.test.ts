import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startCountingProxy } from './counting-proxy';

describe('startCountingProxy', () => {
  test('charges each request its head, body and answer, byte for byte, across keep-alive and an upgrade', async () => {
    const received: number[] = []; // bytes the server's sockets read, for the check from the other side
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(Buffer.alloc(req.url === '/big' ? 70_000 : 5, 1)));
    });
    server.on('connection', (s) => s.on('close', () => received.push(s.bytesRead)));
    server.on('upgrade', (_req, socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(d)); // echo
      socket.on('end', () => socket.end()); // an upgraded socket of an http.Server is half-open until ended
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const proxy = await startCountingProxy({ target, classify: (m, p) => `${m} ${p}` });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: Buffer) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(`${proxy.url}${path}`, { method, agent }, (res) => {
          let n = 0;
          res.on('data', (c: Buffer) => (n += c.length));
          res.on('end', () => resolve(n));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(await send('POST', '/up?x=1', Buffer.alloc(100_000, 2))).toBe(5);
      expect(await send('GET', '/big')).toBe(70_000);
      expect(await send('POST', '/up', Buffer.alloc(10, 2))).toBe(5);
      const echoed = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${proxy.url}/ws`, { headers: { connection: 'Upgrade', upgrade: 'x' } });
        req.on('upgrade', (_res, socket) => {
          let n = 0;
          socket.on('data', (d: Buffer) => {
            n += d.length;
            if (n === 3000) {
              socket.destroy();
              resolve(n);
            }
          });
          socket.write(Buffer.alloc(3000, 3));
        });
        req.on('error', reject);
        req.end();
      });
      expect(echoed).toBe(3000);
      agent.destroy();
      await new Promise((r) => setTimeout(r, 200));
      const c = proxy.counts();
      expect(Object.keys(c).sort()).toEqual(['GET /big', 'GET /ws', 'POST /up']);
      expect(c['POST /up']!.requests).toBe(2);
      expect(c['POST /up']!.up).toBeGreaterThan(100_010);
      expect(c['POST /up']!.up).toBeLessThan(100_010 + 2 * 400); // and two heads of a few hundred bytes
      expect(c['GET /big']!.down).toBeGreaterThan(70_000);
      expect(c['GET /big']!.down).toBeLessThan(70_000 + 400);
      expect(c['GET /ws']!.up).toBeGreaterThan(3000);
      expect(c['GET /ws']!.down).toBeGreaterThan(3000);
      // Every byte the server read is charged to some request, and nothing else is.
      const up = Object.values(c).reduce((s, x) => s + x.up, 0);
      expect(received.reduce((s, x) => s + x, 0)).toBe(up);
    } finally {
      agent.destroy();
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
