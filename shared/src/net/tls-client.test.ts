import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { codeOf } from '../__tests__/code-of';
import { readCaFile, tlsFailure, tlsFailureCode } from './tls-client';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('readCaFile', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-ca-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads a PEM certificate', () => {
    fs.writeFileSync(path.join(dir, 'ca.pem'), PEM);
    expect(readCaFile(path.join(dir, 'ca.pem'))).toBe(PEM);
  });

  test('a missing file, a non-PEM file or a file with a private key is CONFIG_INVALID', () => {
    expect(codeOf(() => readCaFile(path.join(dir, 'absent.pem')))).toBe('CONFIG_INVALID');
    fs.writeFileSync(path.join(dir, 'junk.pem'), 'hello');
    expect(codeOf(() => readCaFile(path.join(dir, 'junk.pem')))).toBe('CONFIG_INVALID');
    fs.writeFileSync(
      path.join(dir, 'both.pem'),
      `${PEM}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`,
    );
    expect(() => readCaFile(path.join(dir, 'both.pem'))).toThrow(/private key/);
  });
});

describe('tlsFailure', () => {
  const wrapped = (code: string) =>
    Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code }) });

  test('an untrusted certificate deep in the cause chain becomes TLS_UNTRUSTED that says to pass --ca', () => {
    const e = tlsFailure(wrapped('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'https://coordinator.invalid:8470');
    expect(e?.code).toBe('TLS_UNTRUSTED');
    expect(e?.message).toMatch(/--ca <pem>/);
    expect(tlsFailure(wrapped('SELF_SIGNED_CERT_IN_CHAIN'), 'https://h.invalid')?.code).toBe('TLS_UNTRUSTED');
  });

  test('a host name mismatch names the host', () => {
    expect(tlsFailure(wrapped('ERR_TLS_CERT_ALTNAME_INVALID'), 'https://coordinator.invalid')?.message).toMatch(
      /not issued for the host name "coordinator\.invalid"/,
    );
  });

  test('engine.io keeps the cause in `description`', () => {
    expect(tlsFailureCode({ message: 'websocket error', description: { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' } })).toBe(
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    );
  });

  test('other network failures are not TLS failures', () => {
    expect(tlsFailure(wrapped('ECONNREFUSED'), 'https://h.invalid')).toBeUndefined();
    expect(tlsFailure(new Error('boom'), 'https://h.invalid')).toBeUndefined();
  });
});
