import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import {
  SITE_NAMESPACE,
  TwinfedError,
  fromB64,
  toB64,
  nonceExpiresAt,
  generateIdentity,
  type ErrorCode,
  parseHandshake,
  verifyHandshake,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SocketData,
  type Logger,
} from '@twinfed/shared';
import type { AuthFailureAccounting } from '../http/auth-failures';
import { SiteMacKeys } from '../http/site-mac-keys';
import type { EngineEvents } from '../rounds/events';
import type { Store } from '../store';
import { AnonymousConnections, type EngineSocket } from './anonymous-connections';

/** The push side of the coordinator: announcements to sites over socket.io. Weights never travel here. */
interface SocketLayer {
  events: EngineEvents;
  /** Disconnects every socket of a (revoked) site. */
  disconnectSite(siteId: string): void;
  /** Number of connected site sockets. */
  connectedSites(): number;
  close(): Promise<void>;
}

/** Default cap on connections per client address (IPv6: per /64) that have not (yet) authenticated as a site. */
const MAX_ANONYMOUS_SOCKETS_PER_ADDRESS = 16;
/** Default time a connection may take to authenticate before it is closed. */
const SOCKET_CONNECT_TIMEOUT_MS = 10_000;

/** The one answer to every refused site handshake, whatever the cause (no site-id oracle). */
const REFUSED: ErrorCode = 'UNAUTHENTICATED';
/** Verified for unknown or revoked sites so that every refusal costs the same work (a MAC: under a decoy site's key). */
const DECOY = generateIdentity();
const DECOY_MAC_KEYS = new SiteMacKeys(generateIdentity(), 1024);

/** An error socket.io sends to the client as `connect_error` (`err.message`, `err.data`). */
function refusal(code: ErrorCode): Error {
  return Object.assign(new Error(code), { data: { code } });
}

/**
 * Attaches socket.io to the HTTP server (WebSocket transport only). Sites authenticate the handshake to {@link SITE_NAMESPACE} with a signed
 * or MAC'd, fresh, single-use nonce (the same rules as site requests). Every other namespace, `/` included, is refused and
 * the connection closed at once. Connections that have not authenticated are capped per client address (the address
 * the HTTP layer uses, trusted proxy included) and closed after `connectTimeoutMs`. A refused handshake is answered
 * `UNAUTHENTICATED` whatever the cause (unknown site, revoked, bad signature, stale, replayed, malformed), counts as a
 * failed authentication of its address in the HTTP limiter, and closes the connection; an address over that limit is
 * answered `RATE_LIMITED`.
 */
export function attachSockets(opts: {
  httpServer: HttpServer;
  store: Store;
  logger: Logger;
  requestWindowMs: number;
  now: () => number;
  /** Records that a site was seen (throttled by the caller); default: write `lastSeenAt` every time. */
  touch?: (siteId: string) => Promise<unknown>;
  /** The client address of a raw request as the HTTP layer computes it; default: the TCP peer. */
  clientAddress?: (req: IncomingMessage) => string;
  /** The HTTP layer's failed-authentication accounting (handshake failures count there); none: not counted. */
  authFailures?: AuthFailureAccounting;
  /** Default {@link MAX_ANONYMOUS_SOCKETS_PER_ADDRESS}. */
  maxAnonymousPerAddress?: number;
  /** Default {@link SOCKET_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
  /** Carries broadcasts to the sockets of the other replicas (the Redis adapter); default: this process only. */
  adapter?: ServerOptions['adapter'];
  /** The sites' request MAC keys (shared with the HTTP layer); none: a MAC'd handshake never verifies. */
  macKeys?: SiteMacKeys;
}): SocketLayer {
  const touch = opts.touch ?? ((siteId: string) => opts.store.touchSite(siteId, new Date(opts.now()).toISOString()));
  const addressOf = opts.clientAddress ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown');
  const cap = opts.maxAnonymousPerAddress ?? MAX_ANONYMOUS_SOCKETS_PER_ADDRESS;
  const anonymous = new AnonymousConnections(cap);
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(
    opts.httpServer,
    {
      serveClient: false,
      // WebSocket only, as every twinfed client connects: a long-polling session is opened by one plain GET and outlives
      // its client (ping timeout, then a 30 s close timer), holding an anonymous slot and a stopping process meanwhile.
      transports: ['websocket'],
      maxHttpBufferSize: 64 * 1024,
      pingInterval: 10_000,
      pingTimeout: 10_000,
      connectTimeout: opts.connectTimeoutMs ?? SOCKET_CONNECT_TIMEOUT_MS,
      // Cheap refusal (HTTP 403) of a new connection from an address already at its cap.
      allowRequest: (req, callback) => callback(null, !anonymous.full(addressOf(req))),
      ...(opts.adapter ? { adapter: opts.adapter } : {}),
    },
  );
  // Exact count: connections that passed allowRequest together are closed here beyond the cap.
  io.engine.on('connection', (conn: EngineSocket) => {
    if (!anonymous.admit(conn, addressOf(conn.request))) conn.close();
  });
  /** Sends the refusal, then closes the underlying connection (after socket.io has written the error). */
  const refuse = (conn: EngineSocket, next: (err?: Error) => void, code: ErrorCode) => {
    next(refusal(code));
    setImmediate(() => conn.close());
  };
  io.of('/').use((socket, next) => refuse(socket.conn, next, 'NOT_FOUND'));

  const sites = io.of(SITE_NAMESPACE);
  sites.use((socket, next) => {
    const address = addressOf(socket.request);
    void (async () => {
      if (await opts.authFailures?.isLimited(address)) {
        opts.logger.debug({ address }, 'socket handshake refused: too many failed authentications');
        throw new TwinfedError('RATE_LIMITED');
      }
      const claimed = parseHandshake(socket.handshake.auth);
      const site = await opts.store.getSite(claimed.siteId);
      const now = opts.now();
      const usable = site && !site.revokedAt ? site : undefined;
      const signPublicKey = usable ? fromB64(usable.signPublicKey) : DECOY.sign.publicKey;
      const macKey = usable
        ? (opts.macKeys?.keyFor(usable) ?? null)
        : DECOY_MAC_KEYS.keyFor({ id: claimed.siteId, boxPublicKey: toB64(DECOY.box.publicKey) });
      const v = verifyHandshake({
        auth: socket.handshake.auth,
        signPublicKey,
        macKey,
        now,
        windowMs: opts.requestWindowMs,
      });
      if (!site) throw new TwinfedError('UNKNOWN_SITE');
      if (site.revokedAt) throw new TwinfedError('SITE_REVOKED');
      const fresh = await opts.store.useNonce({
        siteId: site.id,
        nonce: v.nonce,
        expiresAt: new Date(nonceExpiresAt(v.timestamp, opts.requestWindowMs)).toISOString(),
        now: new Date(now).toISOString(),
      });
      if (!fresh) throw new TwinfedError('REPLAYED_REQUEST');
      await touch(site.id);
      socket.data.siteId = site.id;
      await socket.join(`site:${site.id}`);
    })().then(
      () => {
        anonymous.authenticated(socket.conn);
        next();
      },
      async (err: unknown) => {
        const code = err instanceof TwinfedError ? err.code : 'INTERNAL';
        if (code === 'RATE_LIMITED') return refuse(socket.conn, next, 'RATE_LIMITED');
        if (err instanceof TwinfedError && err.status < 500) await opts.authFailures?.recordFailure(address);
        if (code === 'INTERNAL') opts.logger.error({ err }, 'socket handshake failed');
        else opts.logger.warn({ code }, 'socket handshake rejected');
        refuse(socket.conn, next, REFUSED);
      },
    );
  });
  sites.on('connection', (socket) => {
    opts.logger.debug({ siteId: socket.data.siteId }, 'site connected');
    socket.on('site:status', (_status, ack) => {
      void touch(socket.data.siteId).catch(() => undefined);
      if (typeof ack === 'function') ack(new Date(opts.now()).toISOString());
    });
  });
  return {
    events: {
      roundOpened: (e) => void sites.emit('round:opened', e),
      roundFailed: (e) => void sites.emit('round:failed', e),
      modelPublished: (e) => void sites.emit('model:published', e),
      federationEnded: (e) => void sites.emit('federation:ended', e),
      secaggPhase: (e, siteIds) => {
        if (siteIds.length > 0) void sites.to(siteIds.map((id) => `site:${id}`)).emit('secagg:phase', e);
      },
    },
    disconnectSite: (siteId) => void sites.in(`site:${siteId}`).disconnectSockets(true),
    connectedSites: () => sites.sockets.size,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}
