import {
  macHandshake,
  macRequest,
  signHandshake,
  signRequest,
  siteRequestMacKey,
  type Logger,
  type RequestMacKey,
} from '@twinfed/shared';

/** A site's credentials for authenticating its requests and socket handshakes. */
export interface SiteCredentials {
  readonly siteId: string;
  readonly signSecretKey: Uint8Array;
  /**
   * The site's box secret and the coordinator's pinned box public key (from enrollment). With both, requests and
   * handshakes carry a MAC under the key they agree on (shared/src/auth/request-mac.ts) instead of a signature;
   * without them (or `requestAuth: 'signature'`), every request is signed.
   */
  readonly boxSecretKey?: Uint8Array;
  readonly coordinatorBoxPublicKey?: Uint8Array;
}

/** How a site authenticates to the coordinator: request MACs where the coordinator takes them, or signatures only. */
type RequestAuth = 'mac' | 'signature';

/**
 * Authenticates one site's requests and socket handshakes, shared by every transport of the site (so they learn
 * together what the coordinator takes). Requests carry a MAC while the coordinator takes them. A coordinator from
 * before request MACs answers a MAC'd request `401 UNAUTHENTICATED` (no signature header): the authenticator then signs
 * every request for the rest of its life (logged once) and the refused request is sent again, signed. Handshakes carry
 * a MAC too; a refused handshake tells nothing about why (every refusal is `UNAUTHENTICATED`), so once a MAC'd one is
 * refused before any MAC'd request was taken, handshakes are signed until one is.
 */
export class SiteAuthenticator {
  /** Null: signatures only (no box keys, forced, or fallen back). */
  private key: RequestMacKey | null;
  /** A MAC'd request was taken. */
  private confirmed = false;
  /** A MAC'd handshake was refused (before `confirmed`). */
  private handshakeMacRefused = false;

  constructor(
    private readonly credentials: SiteCredentials,
    private readonly options: { logger?: Logger | undefined; requestAuth?: RequestAuth | undefined } = {},
  ) {
    const c = credentials;
    this.key =
      options.requestAuth !== 'signature' && c.boxSecretKey && c.coordinatorBoxPublicKey
        ? siteRequestMacKey({
            siteId: c.siteId,
            siteBoxSecretKey: c.boxSecretKey,
            coordinatorBoxPublicKey: c.coordinatorBoxPublicKey,
          })
        : null;
  }

  /** `c` itself when it is an authenticator; otherwise one of its own for these credentials. */
  static of(c: SiteCredentials | SiteAuthenticator, logger?: Logger): SiteAuthenticator {
    return c instanceof SiteAuthenticator ? c : new SiteAuthenticator(c, { logger });
  }

  get siteId(): string {
    return this.credentials.siteId;
  }

  /** Whether requests are MAC'd now. */
  get usesMac(): boolean {
    return this.key !== null;
  }

  /** The authentication headers of one attempt, and whether they carry a MAC. */
  requestHeaders(r: { method: string; path: string; body: string | Uint8Array; now: number }): {
    headers: Record<string, string>;
    mac: boolean;
  } {
    const key = this.key;
    if (key) return { headers: macRequest({ ...r, key }), mac: true };
    return {
      headers: signRequest({ ...r, siteId: this.siteId, signSecretKey: this.credentials.signSecretKey }),
      mac: false,
    };
  }

  /**
   * What the coordinator answered to a request sent with a MAC (`mac`) or not. True when it takes no MACs: the request
   * must be sent again, signed (as every later one is).
   */
  answered(mac: boolean, status: number, code: string | undefined): boolean {
    if (!mac) return false;
    if (status >= 200 && status < 400) this.confirmed = true;
    if (status !== 401 || code !== 'UNAUTHENTICATED' || this.key === null) return false;
    this.key = null;
    this.options.logger?.warn(
      { siteId: this.siteId },
      'the coordinator takes no request MACs: every request and socket handshake is signed from now on',
    );
    return true;
  }

  /**
   * A fresh socket handshake: MAC'd unless requests are signed, or a MAC'd handshake was refused and no MAC'd request
   * has been taken since.
   */
  handshake(): { readonly siteId: string; readonly mac?: string; readonly signature?: string } {
    const key = this.key;
    if (key && (this.confirmed || !this.handshakeMacRefused)) return macHandshake({ key });
    return signHandshake({ siteId: this.siteId, signSecretKey: this.credentials.signSecretKey });
  }

  /** The coordinator refused a handshake; `mac`: it carried a MAC. */
  handshakeRefused(mac: boolean): void {
    if (mac && !this.confirmed) this.handshakeMacRefused = true;
  }
}
