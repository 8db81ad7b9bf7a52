import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { createFetch, isTwinfedError, routes } from '@twinfed/shared';
import { createAdminClient } from '../cli/admin-client';
import { loadConfig } from '../config';
import { startTestCoordinator } from '../__tests__/harness';
import { createCertificates, renewServerCertificate, writeCertificates, type CertificateSet } from './certificates';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-https-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function issue(
  into: string,
  force = false,
): Promise<CertificateSet & { files: ReturnType<typeof writeCertificates> }> {
  const set = await createCertificates({ hosts: ['localhost'], ips: ['127.0.0.1'] });
  return { ...set, files: writeCertificates(into, set, { force }) };
}

const fp = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Opens a new TLS connection trusting `ca` and returns it with the fingerprint of the certificate the server showed. */
function connect(port: number, ca: string): Promise<{ socket: tls.TLSSocket; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () =>
      resolve({ socket, fingerprint: socket.getPeerCertificate().fingerprint256 }),
    );
    socket.once('error', reject);
  });
}

/** Sends GET /healthz over an open TLS socket and resolves with the status line. */
function healthz(socket: tls.TLSSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('data', (d: Buffer) => resolve(d.toString('utf8').split('\r\n')[0]!));
    socket.once('error', reject);
    socket.write(`GET ${routes.healthz} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

describe('the coordinator over HTTPS', () => {
  test('serves https with the given certificate; a client trusting the CA gets in, one without it gets TLS_UNTRUSTED', async () => {
    const a = await issue(dir);
    const c = await startTestCoordinator({ tls: { cert: a.files.serverCert, key: a.files.serverKey } });
    const trusting = createFetch({ ca: a.caCert });
    try {
      expect(c.tls).toBe(true);
      expect(c.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await trusting(c.url + routes.healthz)).status).toBe(200);
      const keys = await createAdminClient({ baseUrl: c.url, fetch: trusting }).coordinatorKeys();
      expect(keys.fingerprint).toBe(c.fingerprint);
      const e = await createAdminClient({ baseUrl: c.url })
        .coordinatorKeys()
        .catch((x: unknown) => x);
      expect(isTwinfedError(e, 'TLS_UNTRUSTED')).toBe(true);
      expect((e as Error).message).toMatch(/not signed by a CA this client trusts .*pass --ca <pem>/);
      // Another consortium's CA is not enough either.
      const other = await createCertificates({ hosts: ['localhost'] });
      const wrong = await createAdminClient({ baseUrl: c.url, fetch: createFetch({ ca: other.caCert }) })
        .coordinatorKeys()
        .catch((x: unknown) => x);
      expect(isTwinfedError(wrong, 'TLS_UNTRUSTED')).toBe(true);
    } finally {
      await trusting.close();
      await c.close();
    }
  });

  test('a certificate for another host name is TLS_UNTRUSTED naming the host', async () => {
    const set = await createCertificates({ hosts: ['coordinator.invalid'] });
    const files = writeCertificates(dir, set);
    const c = await startTestCoordinator({ tls: { cert: files.serverCert, key: files.serverKey } });
    const f = createFetch({ ca: set.caCert });
    try {
      const e = await createAdminClient({ baseUrl: c.url, fetch: f })
        .coordinatorKeys()
        .catch((x: unknown) => x);
      expect(isTwinfedError(e, 'TLS_UNTRUSTED')).toBe(true);
      expect((e as Error).message).toMatch(/not issued for the host name "127\.0\.0\.1"/);
    } finally {
      await f.close();
      await c.close();
    }
  });

  test('reloadTls swaps the certificate for new connections while open ones and the server stay up; a failed reload keeps the old one', async () => {
    const a = await issue(dir);
    const c = await startTestCoordinator({ tls: { cert: a.files.serverCert, key: a.files.serverKey } });
    try {
      const before = await connect(c.port, a.caCert);
      expect(before.fingerprint).toBe(fp(a.serverCert));

      const b = await issue(dir, true); // a new certificate in the same files
      c.reloadTls();
      const after = await connect(c.port, b.caCert);
      expect(after.fingerprint).toBe(fp(b.serverCert));
      expect(await healthz(after.socket)).toBe('HTTP/1.1 200 OK');
      expect(await healthz(before.socket)).toBe('HTTP/1.1 200 OK'); // the connection from before the reload still works
      before.socket.destroy();
      after.socket.destroy();

      // A key that does not fit the certificate: refused, B still served.
      const stray = await createCertificates({ hosts: ['localhost'] });
      fs.writeFileSync(a.files.serverKey, stray.serverKey);
      expect(() => c.reloadTls()).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringMatching(/does not fit the certificate/),
        }),
      );
      // An unreadable certificate: refused, B still served.
      fs.rmSync(a.files.serverCert);
      expect(() => c.reloadTls()).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: expect.stringMatching(/Cannot read the TLS certificate/),
        }),
      );
      const still = await connect(c.port, b.caCert);
      expect(still.fingerprint).toBe(fp(b.serverCert));
      expect(await healthz(still.socket)).toBe('HTTP/1.1 200 OK');
      still.socket.destroy();
    } finally {
      await c.close();
    }
  });

  test('a key that does not fit the certificate stops the start with CONFIG_INVALID; without TLS there is nothing to reload', async () => {
    const a = await issue(dir);
    const other = await createCertificates({ hosts: ['localhost'] });
    fs.writeFileSync(path.join(dir, 'other-key.pem'), other.serverKey);
    await expect(
      startTestCoordinator({ tls: { cert: a.files.serverCert, key: path.join(dir, 'other-key.pem') } }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const plain = await startTestCoordinator();
    try {
      expect(plain.url).toMatch(/^http:\/\//);
      expect(() => plain.reloadTls()).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    } finally {
      await plain.close();
    }
  });
});

describe('TLS configuration', () => {
  test('TWINFED_TLS_CERT and TWINFED_TLS_KEY go together (both or neither) and are made absolute', () => {
    expect(() => loadConfig({ TWINFED_TLS_CERT: 'server.pem' }, { dataDir: dir })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/both the certificate and the key/),
      }),
    );
    expect(() => loadConfig({}, { dataDir: dir, tlsKey: 'k.pem' })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
    const c = loadConfig({ TWINFED_TLS_CERT: 'server.pem', TWINFED_TLS_KEY: 'server-key.pem' }, { dataDir: dir });
    expect([c.tlsCert, c.tlsKey]).toEqual([path.resolve('server.pem'), path.resolve('server-key.pem')]);
    expect(loadConfig({}, { dataDir: dir }).tlsCert).toBeUndefined();
  });
});

describe('tls init files', () => {
  test('the CA and server keys are mode 0600, the server certificate carries the SANs and is signed by the CA; no overwrite without force', async () => {
    const set = await createCertificates({
      hosts: ['coordinator.consortium.example', 'localhost'],
      ips: ['127.0.0.1', '::1'],
    });
    const files = writeCertificates(dir, set);
    expect(fs.statSync(files.caKey).mode & 0o777).toBe(0o600);
    expect(fs.statSync(files.serverKey).mode & 0o777).toBe(0o600);
    const server = new X509Certificate(fs.readFileSync(files.serverCert));
    const ca = new X509Certificate(fs.readFileSync(files.caCert));
    expect(server.subjectAltName).toBe(
      'DNS:coordinator.consortium.example, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(() => writeCertificates(dir, set)).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
    await expect(createCertificates({ hosts: [] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(createCertificates({ hosts: ['10.0.0.1'] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(createCertificates({ hosts: [], ips: ['not-an-ip'] })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });
});

describe('renewal with the same CA', () => {
  test('a renewed server certificate is new, signed by the same CA; a CA key of another CA is CONFIG_INVALID', async () => {
    const first = await createCertificates({ hosts: ['localhost'] });
    const renewed = await renewServerCertificate({
      hosts: ['localhost'],
      ips: ['127.0.0.1'],
      caCert: first.caCert,
      caKey: first.caKey,
    });
    expect(renewed.caCert).toBe(first.caCert);
    expect(fp(renewed.serverCert)).not.toBe(fp(first.serverCert));
    expect(new X509Certificate(renewed.serverCert).checkIssued(new X509Certificate(first.caCert))).toBe(true);
    expect(new X509Certificate(renewed.serverCert).verify(new X509Certificate(first.caCert).publicKey)).toBe(true);
    const other = await createCertificates({ hosts: ['localhost'] });
    await expect(
      renewServerCertificate({ hosts: ['localhost'], caCert: first.caCert, caKey: other.caKey }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(
      renewServerCertificate({ hosts: ['localhost'], caCert: 'junk', caKey: first.caKey }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
