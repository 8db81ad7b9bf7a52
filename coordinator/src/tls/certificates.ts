/**
 * A private consortium CA and a server certificate signed by it, for trials and private consortia (production
 * may use the hospital's own PKI instead). The one module that owns @peculiar/x509. Keys are ECDSA P-256;
 * private keys are written mode 0600 and never logged.
 */
import { webcrypto } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { TwinfedError } from '@twinfed/shared';

type CryptoKey = webcrypto.CryptoKey;
/** Node's WebCrypto. x509 types its crypto parameter with the DOM's Crypto, which this Node-only build does not load. */
const crypto = webcrypto;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
/** Certificates start a little in the past: clocks of hosts differ. */
const SKEW_MS = 5 * 60_000;

/** What {@link createCertificates} makes. */
interface CertificateRequest {
  /** DNS names of the coordinator (subjectAltName), at least one name or address in all. */
  hosts: string[];
  /** IP addresses of the coordinator (subjectAltName). */
  ips?: string[];
  /** Common name of the CA (default "twinfed consortium CA"). */
  caName?: string;
  /** Validity of the CA and of the server certificate in days (defaults 3650 and 397). */
  caDays?: number;
  serverDays?: number;
  now?: Date;
}

/** The PEM texts of a new CA and server certificate. */
export interface CertificateSet {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

/** File names inside the `--out` directory. */
const TLS_FILES = {
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  serverCert: 'server.pem',
  serverKey: 'server-key.pem',
} as const;

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

const dn = (cn: string): string => `CN=${cn.replace(/([,+"\\<>;=])/g, '\\$1')}`;

/** Checks the names: DNS labels (a wildcard first label allowed) and IP addresses. `CONFIG_INVALID` otherwise. */
function checkSubjectNames(hosts: readonly string[], ips: readonly string[]): void {
  if (hosts.length + ips.length === 0)
    throw new TwinfedError(
      'CONFIG_INVALID',
      'Give at least one --host <name> or --ip <address> the coordinator is reached by.',
    );
  for (const h of hosts) {
    if (
      !/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(h) ||
      isIP(h) !== 0
    ) {
      throw new TwinfedError(
        'CONFIG_INVALID',
        `--host ${h}: not a DNS name${isIP(h) !== 0 ? ' (give addresses with --ip)' : ''}.`,
      );
    }
  }
  for (const ip of ips) if (isIP(ip) === 0) throw new TwinfedError('CONFIG_INVALID', `--ip ${ip}: not an IP address.`);
}

/** Creates a CA and a server certificate for `hosts` and `ips`, signed by that CA (in memory). */
export async function createCertificates(req: CertificateRequest): Promise<CertificateSet> {
  checkSubjectNames(req.hosts, req.ips ?? []);
  const now = req.now ?? new Date();
  const caKeys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: dn(req.caName ?? 'twinfed consortium CA'),
      keys: caKeys,
      notBefore: new Date(now.getTime() - SKEW_MS),
      notAfter: new Date(now.getTime() + (req.caDays ?? 3650) * DAY),
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const server = await issue(ca, caKeys.privateKey, req);
  return { caCert: ca.toString('pem'), caKey: await pkcs8Pem(caKeys.privateKey), ...server };
}

/**
 * A new server certificate signed by an existing CA (PEM certificate and PKCS#8 key, as `createCertificates`
 * wrote them): renewal without handing sites a new CA. `CONFIG_INVALID` when the CA files are unusable.
 */
export async function renewServerCertificate(
  req: CertificateRequest & { caCert: string; caKey: string },
): Promise<CertificateSet> {
  checkSubjectNames(req.hosts, req.ips ?? []);
  let ca: x509.X509Certificate;
  let caKey: CryptoKey;
  try {
    ca = new x509.X509Certificate(req.caCert);
    caKey = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(req.caKey), ALG, false, ['sign']);
  } catch (e) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `The CA certificate or key cannot be used (${(e as Error).message}); expected the ca.pem and ca-key.pem of \`twinfed tls init\`.`,
    );
  }
  const server = await issue(ca, caKey, req);
  if (
    !(await new x509.X509Certificate(server.serverCert).verify(
      { publicKey: ca.publicKey, signatureOnly: true },
      crypto,
    ))
  ) {
    throw new TwinfedError('CONFIG_INVALID', 'The CA key does not belong to the CA certificate.');
  }
  return { caCert: req.caCert, caKey: req.caKey, ...server };
}

async function issue(
  ca: x509.X509Certificate,
  caKey: CryptoKey,
  req: CertificateRequest,
): Promise<Pick<CertificateSet, 'serverCert' | 'serverKey'>> {
  const ips = req.ips ?? [];
  const now = req.now ?? new Date();
  const serverKeys = await crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const names: x509.JsonGeneralName[] = [
    ...req.hosts.map((value) => ({ type: 'dns' as const, value })),
    ...ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const server = await x509.X509CertificateGenerator.create(
    {
      subject: dn(req.hosts[0] ?? ips[0]!),
      issuer: ca.subject,
      publicKey: serverKeys.publicKey,
      signingKey: caKey,
      notBefore: new Date(now.getTime() - SKEW_MS),
      notAfter: new Date(now.getTime() + (req.serverDays ?? 397) * DAY),
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension(names, false),
        await x509.SubjectKeyIdentifierExtension.create(serverKeys.publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(ca, false, crypto),
      ],
    },
    crypto,
  );
  return { serverCert: server.toString('pem'), serverKey: await pkcs8Pem(serverKeys.privateKey) };
}

/** Writes a {@link CertificateSet} into `dir` (created 0700); keys 0600, certificates 0644. Refuses to overwrite unless `force`. */
export function writeCertificates(
  dir: string,
  set: CertificateSet,
  opts: { force?: boolean } = {},
): Record<keyof CertificateSet, string> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caCert: path.join(dir, TLS_FILES.caCert),
    caKey: path.join(dir, TLS_FILES.caKey),
    serverCert: path.join(dir, TLS_FILES.serverCert),
    serverKey: path.join(dir, TLS_FILES.serverKey),
  };
  if (!opts.force) {
    const existing = Object.values(files).filter((f) => fs.existsSync(f));
    if (existing.length > 0)
      throw new TwinfedError(
        'ALREADY_EXISTS',
        `${existing.join(', ')} already exist; use --force to replace them, or another --out.`,
      );
  }
  const write = (file: string, text: string, mode: number) => {
    fs.writeFileSync(file, text, { mode });
    fs.chmodSync(file, mode); // writeFileSync keeps the mode of a file it overwrites
  };
  write(files.caKey, set.caKey, 0o600);
  write(files.serverKey, set.serverKey, 0o600);
  write(files.caCert, set.caCert, 0o644);
  write(files.serverCert, `${set.serverCert.trimEnd()}\n`, 0o644);
  return files;
}
