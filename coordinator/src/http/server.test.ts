import https from 'node:https';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { createCertificates } from '../tls/certificates';
import { createAppServer } from './server';

/** An app like the coordinator's: trust proxy, helmet, a route that answers req.ip, a throwing route, an error handler. */
function app() {
  const a = express();
  a.disable('x-powered-by');
  a.set('trust proxy', ['127.0.0.1']);
  a.use(helmet());
  a.get('/ip', (req, res) => {
    res.json({ ip: req.ip, protocol: req.protocol, path: req.path });
  });
  a.get('/boom', () => {
    throw new Error('boom');
  });
  a.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ error: err.message });
  });
  return a;
}

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('createAppServer', () => {
  test("requests and responses are born with the app's prototypes; express semantics unchanged", async () => {
    const a = app();
    const server = createAppServer(a, null);
    const born: boolean[] = [];
    server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      born.push(Object.getPrototypeOf(req) === a.request && Object.getPrototypeOf(res) === a.response);
    });
    const port = await listen(server);
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/ip?x=1`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
      expect(await ok.json()).toEqual({ ip: '203.0.113.7', protocol: 'http', path: '/ip' });
      expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
      expect(ok.headers.get('x-powered-by')).toBeNull();
      const boom = await fetch(`http://127.0.0.1:${port}/boom`);
      expect(boom.status).toBe(500);
      expect(await boom.json()).toEqual({ error: 'boom' });
      expect((await fetch(`http://127.0.0.1:${port}/nowhere`)).status).toBe(404);
      expect(born).toEqual([true, true, true]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('over HTTPS too', async () => {
    const certs = await createCertificates({ hosts: ['localhost'], ips: ['127.0.0.1'] });
    const a = app();
    const server = createAppServer(a, { cert: certs.serverCert, key: certs.serverKey });
    expect(server).toBeInstanceOf(https.Server);
    const born: boolean[] = [];
    server.prependListener('request', (req: http.IncomingMessage) =>
      born.push(Object.getPrototypeOf(req) === a.request),
    );
    const port = await listen(server);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port, path: '/ip', ca: certs.caCert }, (res) => {
            let s = '';
            res.on('data', (d: Buffer) => (s += d.toString('utf8')));
            res.on('end', () => resolve(s));
          })
          .on('error', reject);
      });
      expect(JSON.parse(body)).toEqual({ ip: '127.0.0.1', protocol: 'https', path: '/ip' });
      expect(born).toEqual([true]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
