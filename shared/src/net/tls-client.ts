/**
 * TLS for the clients (operator CLI and site): the one module that owns undici. Node's built-in fetch cannot be
 * told to trust a private CA, so a client given `--ca <pem>` uses undici's own fetch with an Agent whose TLS
 * connections trust exactly that CA. Also turns a TLS handshake failure into a clear `TLS_UNTRUSTED` error.
 */
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';
import { TwinfedError } from '../errors';

/** The fetch the clients call (the global one's signature). */
type FetchFn = typeof fetch;

/**
 * Reads a PEM file of one or more CA certificates. A missing, unreadable or non-PEM file is `CONFIG_INVALID`
 * (named by `flag`, e.g. `--ca`).
 */
export function readCaFile(file: string, flag = '--ca'): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new TwinfedError('CONFIG_INVALID', `${flag} ${file}: cannot read the CA certificate (${code}).`);
  }
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(text)) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `${flag} ${file}: not a PEM certificate (expected -----BEGIN CERTIFICATE-----).`,
    );
  }
  if (/PRIVATE KEY-----/.test(text)) {
    throw new TwinfedError(
      'CONFIG_INVALID',
      `${flag} ${file}: the file holds a private key; give the CA certificate (ca.pem) only.`,
    );
  }
  return text;
}

/**
 * A fetch that trusts `ca` (PEM) instead of the system's CAs for https, or the global fetch when no CA is given.
 * Connections are kept alive by the Agent; `close()` releases them.
 */
export function createFetch(options: { ca?: string | undefined } = {}): FetchFn & { close(): Promise<void> } {
  if (options.ca === undefined)
    return Object.assign((...args: Parameters<FetchFn>) => fetch(...args), { close: async () => undefined });
  const agent = new Agent({ connect: { ca: options.ca } });
  const tlsFetch = (input: Parameters<FetchFn>[0], init?: RequestInit): Promise<Response> =>
    undiciFetch(input, { ...(init as object), dispatcher: agent });
  return Object.assign(tlsFetch, { close: () => agent.close() });
}

/** OpenSSL / Node codes of a server certificate the client does not accept. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_REJECTED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The TLS verification code somewhere in `e`'s cause chain (fetch: `cause`; engine.io: `description`), if any. */
export function tlsFailureCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && typeof cur === 'object' && depth < 6; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && UNTRUSTED.has(code)) return code;
    const next = cur as { cause?: unknown; description?: unknown };
    cur = next.cause ?? next.description;
  }
  return undefined;
}

/**
 * `TLS_UNTRUSTED` when `e` (a fetch or socket failure) is the server certificate being refused, otherwise
 * `undefined`. The message names the URL and says what to do (`--ca <pem>`, or the host name in the certificate).
 */
export function tlsFailure(e: unknown, url: string): TwinfedError | undefined {
  const code = tlsFailureCode(e);
  if (!code) return undefined;
  const host = URL.canParse(url) ? new URL(url).hostname : url;
  const why =
    code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? `its certificate is not issued for the host name "${host}" (connect with a name or address listed in the certificate)`
      : code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID'
        ? 'its certificate is expired or not yet valid'
        : 'its certificate is not signed by a CA this client trusts';
  return new TwinfedError(
    'TLS_UNTRUSTED',
    `The TLS connection to ${url} was refused: ${why} (${code}). If the consortium uses a private CA, pass --ca <pem> with the CA certificate the operator gave you.`,
    { cause: e },
  );
}
