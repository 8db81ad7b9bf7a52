/**
 * The coordinator's own TLS: reads the certificate and key files, checks that they belong together, and says what
 * the certificate is (for the log). Used at start and on every reload (SIGHUP).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { TwinfedError } from '@twinfed/shared';

/** A certificate chain and its key, read and checked. */
interface ServerTls {
  cert: string;
  key: string;
  /** Subject, SANs and validity of the leaf certificate, for the log. */
  summary: { subject: string; subjectAltName: string | undefined; validTo: string; fingerprint256: string };
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `Cannot read the TLS ${what} ${file} (${(e as NodeJS.ErrnoException).code ?? 'unreadable'}).`,
    );
  }
}

/**
 * Reads `certFile` (PEM, leaf first, then any intermediates) and `keyFile` (PEM private key). Throws
 * `CONFIG_INVALID` when a file cannot be read or parsed, or the key does not belong to the certificate.
 */
export function loadServerTls(certFile: string, keyFile: string): ServerTls {
  const cert = read(certFile, 'certificate');
  const key = read(keyFile, 'key');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (e) {
    throw new TwinfedError('CONFIG_INVALID', `${certFile} is not a PEM certificate (${(e as Error).message}).`);
  }
  try {
    tls.createSecureContext({ cert, key }); // fails when the key is not the certificate's
  } catch (e) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The TLS key ${keyFile} does not fit the certificate ${certFile} (${(e as Error).message}).`,
    );
  }
  return {
    cert,
    key,
    summary: {
      subject: leaf.subject.replace(/\n/g, ', '),
      subjectAltName: leaf.subjectAltName,
      validTo: leaf.validTo,
      fingerprint256: leaf.fingerprint256,
    },
  };
}
