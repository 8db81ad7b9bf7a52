/**
 * The one place that decides whether a coordinator URL may carry secrets (enrollment tokens, operator bearer
 * tokens, signed requests): https always; plain http only to a loopback address (this machine), unless the user
 * explicitly accepted plain http on a network they trust. Both clients call {@link requireSecureUrl} before they
 * open any connection.
 */
import { isIP } from 'node:net';
import { TwinfedError } from '../errors';

/** True for `localhost`, 127.0.0.0/8 and `::1` (the host part of a URL; IPv6 may keep its brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.split('.')[0] === '127';
  if (isIP(h) === 6) return h === '::1'; // a URL's host is normalised: [0:0::1] is [::1]
  return false;
}

/** How {@link requireSecureUrl} is told about the user's choices. */
interface SecureUrlOptions {
  /** The user passed `--insecure-http` (or its environment variable): plain http to any host is allowed. */
  insecureHttp?: boolean;
  /** The flag that set the URL, named in the message (default `the coordinator URL`). */
  what?: string;
}

/**
 * Parses `raw` and refuses (`INSECURE_URL`) plain http to a host that is not loopback, unless
 * `insecureHttp`. Anything but http(s) is `CONFIG_INVALID`. Never connects.
 */
export function requireSecureUrl(raw: string, options: SecureUrlOptions = {}): URL {
  const what = options.what ?? 'the coordinator URL';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TwinfedError('CONFIG_INVALID', `${what} is not a URL: ${raw}`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') throw new TwinfedError('CONFIG_INVALID', `${what} must be an https:// URL: ${raw}`);
  if (isLoopbackHost(url.hostname) || options.insecureHttp === true) return url;
  throw new TwinfedError(
    'INSECURE_URL',
    `Refusing plain http to ${url.host}: tokens and requests would cross the network unencrypted. Use https://${url.host}${url.pathname === '/' ? '' : url.pathname} ` +
      '(with --ca <pem> if the coordinator uses a private CA), or pass --insecure-http only on a network you trust.',
  );
}

/** True when an environment variable such as TWINFED_INSECURE_HTTP is set to a true-ish value (1, true, yes). */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}
