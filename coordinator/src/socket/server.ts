import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import {
  SITE_NAMESPACE,
  TwinfedError,
  fromB64,
  nonceExpiresAt,
  parseHandshake,
  verifyHandshake,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type SocketData,
} from '@twinfed/shared';
import type { Logger } from '../logger';
import type { EngineEvents } from '../rounds/events';
import type { Store } from '../store';

/** The push side of the coordinator: announcements to sites over socket.io. Weights never travel here. */
export interface SocketLayer {
  events: EngineEvents;
  /** Disconnects every socket of a (revoked) site. */
  disconnectSite(siteId: string): void;
  /** Number of connected site sockets. */
  connectedSites(): number;
  close(): Promise<void>;
}

/**
 * Attaches socket.io to the HTTP server. Sites authenticate the handshake with a signed, fresh, single-use
 * nonce (the same rules as signed requests); revoked or unknown sites are refused.
 */
export function attachSockets(opts: {
  httpServer: HttpServer;
  store: Store;
  logger: Logger;
  requestWindowMs: number;
  now: () => number;
  /** Records that a site was seen (throttled by the caller); default: write `lastSeenAt` every time. */
  touch?: (siteId: string) => Promise<unknown>;
}): SocketLayer {
  const touch = opts.touch ?? ((siteId: string) => opts.store.touchSite(siteId, new Date(opts.now()).toISOString()));
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(opts.httpServer, {
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    pingInterval: 10_000,
    pingTimeout: 10_000,
  });
  const sites = io.of(SITE_NAMESPACE);
  sites.use((socket, next) => {
    void (async () => {
      const claimed = parseHandshake(socket.handshake.auth);
      const site = await opts.store.getSite(claimed.siteId);
      if (!site) throw new TwinfedError('UNKNOWN_SITE');
      if (site.revokedAt) throw new TwinfedError('SITE_REVOKED');
      const now = opts.now();
      const v = verifyHandshake({ auth: socket.handshake.auth, signPublicKey: fromB64(site.signPublicKey), now, windowMs: opts.requestWindowMs });
      const fresh = await opts.store.useNonce({ siteId: site.id, nonce: v.nonce, expiresAt: new Date(nonceExpiresAt(v.timestamp, opts.requestWindowMs)).toISOString(), now: new Date(now).toISOString() });
      if (!fresh) throw new TwinfedError('REPLAYED_REQUEST');
      await touch(site.id);
      socket.data.siteId = site.id;
      await socket.join(`site:${site.id}`);
    })().then(
      () => next(),
      (err: unknown) => {
        const code = err instanceof TwinfedError ? err.code : 'INTERNAL';
        opts.logger.warn({ code }, 'socket handshake rejected');
        const e = new Error(code) as Error & { data?: unknown };
        e.data = { code };
        next(e);
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
    },
    disconnectSite: (siteId) => void sites.in(`site:${siteId}`).disconnectSockets(true),
    connectedSites: () => sites.sockets.size,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
}
