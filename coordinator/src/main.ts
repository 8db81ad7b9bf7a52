import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  TwinfedError,
  fingerprint,
  loadOrCreateIdentity,
  publicPart,
  type Identity,
  createLogger,
  type Logger,
} from '@twinfed/shared';
import { storeLocation, type CoordinatorConfig } from './config';
import { createApp } from './http/app';
import { createAppServer } from './http/server';
import { SiteMacKeys } from './http/site-mac-keys';
import { AuthFailureLimiter } from './http/auth-failures';
import { auditAuthFailureBursts } from './audit/auth-bursts';
import { clientAddress } from './http/client-address';
import { Presence } from './http/presence';
import { UploadGate } from './http/upload-gate';
import type { CrashPoints } from './rounds/crash-points';
import { DriverLeases } from './rounds/driver-leases';
import { RoundEngine } from './rounds/engine';
import type { EngineEvents } from './rounds/events';
import { openRedis, type RedisConnections } from './redis/client';
import { redisFailureCounts } from './redis/failure-counts';
import { redisPushAdapter } from './redis/push';
import { redisDriverNudges, type DriverNudges } from './redis/driver-nudges';
import { attachSockets } from './socket/server';
import { describeStoreLocation, openStore, type Store } from './store';
import { claimStoreKey, ensureOperatorToken, operatorTokenPath } from './bootstrap';
import { loadServerTls } from './tls/server-tls';
import { keepCountsDurable } from './metrics/durable-counts';
import { CoordinatorMetrics } from './metrics/registry';

/** A running coordinator. */
export interface RunningCoordinator {
  url: string;
  port: number;
  fingerprint: string;
  operatorTokenFile: string;
  store: Store;
  engine: RoundEngine;
  identity: Identity;
  logger: Logger;
  /** True when the coordinator serves HTTPS + WSS (`url` starts with https://). */
  tls: boolean;
  /** The listening HTTP(S) server (tests count the bytes it reads from each connection). */
  server: http.Server;
  /**
   * Reads the certificate and key files again and serves them to every new TLS connection; open connections and
   * site sockets stay up. On failure (unreadable or mismatched files) the previous certificate stays in use, the
   * error is logged and thrown (`CONFIG_INVALID`). Without TLS it throws `CONFIG_INVALID`.
   */
  reloadTls(): void;
  /**
   * Graceful shutdown: refuses new requests (503), lets in-flight uploads and round transitions finish
   * (at most `shutdownGraceMs`), then closes sockets, the HTTP server and the database.
   */
  close(): Promise<void>;
}

/** Optional collaborators (tests inject a clock, a logger or a store). */
interface StartOptions {
  logger?: Logger;
  store?: Store;
  now?: () => number;
  /** Test-only: kill points inside the round engine and upload path. */
  crashPoints?: CrashPoints;
}

/** Fields on every coordinator log line. */
export const LOG_BINDINGS = { name: 'twinfed-coordinator' } as const;

/** The composition root: keys, store, round engine, HTTP + socket.io, resume of every running federation. */
export async function startCoordinator(
  config: CoordinatorConfig,
  options: StartOptions = {},
): Promise<RunningCoordinator> {
  const now = options.now ?? Date.now;
  const logger =
    options.logger ?? createLogger({ level: config.logLevel, bindings: LOG_BINDINGS, destination: 'stdout' });
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { identity, created } = loadOrCreateIdentity({ dir: config.dataDir, name: 'coordinator' });
  const store = options.store ?? (await openStore(storeLocation(config)));
  const fp = fingerprint(publicPart(identity));
  try {
    await claimStoreKey({ store, fingerprint: fp, dataDir: config.dataDir, now });
  } catch (e) {
    if (!options.store) await store.close();
    throw e;
  }
  await ensureOperatorToken({ store, dataDir: config.dataDir, now });

  let push: EngineEvents | null = null;
  const events: EngineEvents = {
    roundOpened: (e) => push?.roundOpened(e),
    roundFailed: (e) => push?.roundFailed(e),
    modelPublished: (e) => push?.modelPublished(e),
    federationEnded: (e) => push?.federationEnded(e),
    secaggPhase: (e, siteIds) => push?.secaggPhase(e, siteIds),
  };
  const metrics = new CoordinatorMetrics();
  metrics.collectProcessMetrics();
  const counts = await keepCountsDurable({ store, replica: config.replicaId, metrics, logger });
  const crashPoints = options.crashPoints;
  const presence = new Presence({ store, now });
  // One driver per federation among the replicas sharing the store (alone, this one takes every lease at start).
  const leases: DriverLeases = new DriverLeases({
    store,
    holder: config.replicaId,
    ttlMs: config.driverLeaseTtlMs,
    pollMs: config.catchUpPollMs,
    logger,
    onAcquired: (fid, how) => engine.takeOver(fid, how),
    onLost: (fid) => engine.release(fid),
    onTick: (fid) => engine.poll(fid),
  });
  const engine: RoundEngine = new RoundEngine({
    store,
    identity,
    logger,
    events,
    now,
    metrics,
    maxConcurrentUploads: config.maxConcurrentUploads,
    maxUpdateBytes: config.maxUpdateBytes,
    lastSeen: (id) => presence.lastSeen(id),
    driver: leases,
    nudgeDriver: (fid) => nudges?.nudge(fid),
    ...(crashPoints ? { crashPoints } : {}),
  });
  const uploadGate = new UploadGate({
    concurrency: config.maxConcurrentUploads,
    queue: config.maxQueuedUploads,
    queueBytes: config.maxQueuedUploadBytes,
    maxUploadBytes: config.maxUpdateBytes,
    metrics,
    now,
  });
  let sockets: ReturnType<typeof attachSockets> | null = null;
  let draining = false;
  // Replicas share push and failure counts through Redis; without it both stay in this process.
  const redis: RedisConnections | null = config.redisUrl ? openRedis({ url: config.redisUrl, logger }) : null;
  // Uploads another replica stored reach the driver's catch-up at once (its periodic poll stays the fallback).
  const nudges: DriverNudges | null = redis
    ? redisDriverNudges(redis, config.redisPrefix, (fid) => {
        if (leases.drives(fid)) engine.poll(fid);
      })
    : null;
  const authFailureWindowMs = 60_000;
  // One failed-authentication account for HTTP and socket handshakes (and, with Redis, for every replica).
  const authFailures = new AuthFailureLimiter({
    maxFailures: config.maxAuthFailuresPerMinute,
    windowMs: authFailureWindowMs,
    now,
    onTrip: auditAuthFailureBursts({ store, now, logger }),
    onCountError: (err) => logger.warn({ err }, 'failed authentication not counted'),
    ...(redis
      ? {
          counts: redisFailureCounts({
            client: redis.counts,
            prefix: config.redisPrefix,
            windowMs: authFailureWindowMs,
            maxFailures: config.maxAuthFailuresPerMinute,
          }),
        }
      : {}),
  });
  // One cache of the sites' request MAC keys for HTTP and socket handshakes.
  const macKeys = new SiteMacKeys(identity);
  const app = createApp({
    config,
    store,
    engine,
    identity,
    macKeys,
    logger,
    now,
    uploadGate,
    presence,
    authFailures,
    onSiteRevoked: (id) => sockets?.disconnectSite(id),
    draining: () => draining,
    pushMode: () => (redis === null ? 'local' : redis.healthy() ? 'redis' : 'degraded'),
    ...(crashPoints ? { crashPoints } : {}),
  });
  const initialTls = config.tlsCert && config.tlsKey ? loadServerTls(config.tlsCert, config.tlsKey) : null;
  // An https.Server is an http.Server with TLS underneath (same 'request' and 'upgrade' events): socket.io attaches alike.
  const server: http.Server = createAppServer(app, initialTls);
  applyServerTimeouts(server, config);
  const inFlight = trackRequests(server);
  sockets = attachSockets({
    httpServer: server,
    store,
    logger,
    requestWindowMs: config.requestWindowMs,
    now,
    touch: (id) => presence.seen(id),
    clientAddress: (req) => clientAddress(app, req),
    authFailures,
    macKeys,
    maxAnonymousPerAddress: config.maxAnonymousSocketsPerAddress,
    ...(redis ? { adapter: redisPushAdapter(redis, config.redisPrefix) } : {}),
  });
  push = sockets.events;
  metrics.watch({
    uploadsInFlight: () => uploadGate.inFlight,
    uploadsQueued: () => engine.queuedUploads,
    sitesConnected: () => sockets?.connectedSites() ?? 0,
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  }).catch(async (e: unknown) => {
    await redis?.close();
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${initialTls ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info(
    {
      url,
      fingerprint: fp,
      newKeys: created,
      store: describeStoreLocation(storeLocation(config)),
      push: redis ? 'redis' : 'local',
      ...(initialTls ? { certificate: initialTls.summary } : {}),
    },
    'coordinator listening',
  );
  await leases.start();

  const pruner = setInterval(
    () => void store.pruneNonces(new Date(now()).toISOString()).catch(() => undefined),
    60_000,
  );
  pruner.unref();
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    fingerprint: fp,
    operatorTokenFile: operatorTokenPath(config.dataDir),
    store,
    engine,
    identity,
    logger,
    tls: initialTls !== null,
    server,
    reloadTls: () => {
      if (!config.tlsCert || !config.tlsKey)
        throw new TwinfedError(
          'CONFIG_INVALID',
          'The coordinator does not serve TLS: there is no certificate to reload.',
        );
      let next: ReturnType<typeof loadServerTls>;
      try {
        next = loadServerTls(config.tlsCert, config.tlsKey);
      } catch (e) {
        logger.error(
          { err: (e as Error).message },
          'TLS certificate reload failed; still serving the previous certificate',
        );
        throw e;
      }
      (server as unknown as https.Server).setSecureContext({ cert: next.cert, key: next.key });
      logger.info({ certificate: next.summary }, 'TLS certificate reloaded');
    },
    close: () =>
      (closing ??= (async () => {
        const until = Date.now() + config.shutdownGraceMs;
        draining = true;
        clearInterval(pruner);
        engine.close();
        nudges?.stop();
        server.close();
        logger.info({ inFlight: inFlight.count() }, 'coordinator stopping: finishing in-flight requests');
        await inFlight.idle(until);
        await withDeadline(engine.drain(), until);
        await withDeadline(leases.stop(), until); // released: another replica takes over at once
        const socketsClosed = sockets.close(); // tells every site socket goodbye, then closes the HTTP server
        server.closeAllConnections(); // idle keep-alive connections must not hold the shutdown up
        await socketsClosed;
        await redis?.close();
        await counts.flush();
        if (!options.store) await store.close();
        logger.info('coordinator stopped');
      })()),
  };
}

/**
 * Timeouts set deliberately rather than left to node's defaults (which let a client hold a request for 300 s):
 * headers within `headersTimeoutMs`, the whole request within `requestTimeoutMs`, idle keep-alive connections closed
 * after `keepAliveTimeoutMs`. Slow bodies are also cut by the minimum body rate (http/body-reader.ts).
 */
function applyServerTimeouts(server: http.Server, config: CoordinatorConfig): void {
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
}

/** Counts requests being answered; `idle` resolves when there are none left (or at `until`). */
function trackRequests(server: http.Server): { count(): number; idle(until: number): Promise<void> } {
  let active = 0;
  let waiters: Array<() => void> = [];
  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    active++;
    res.once('close', () => {
      active--;
      if (active === 0) {
        for (const w of waiters) w();
        waiters = [];
      }
    });
  });
  return {
    count: () => active,
    idle: (until) =>
      active === 0 ? Promise.resolve() : withDeadline(new Promise<void>((resolve) => waiters.push(resolve)), until),
  };
}

/** `p`, or nothing once the wall clock reaches `until`. */
async function withDeadline(p: Promise<unknown>, until: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, until - Date.now()));
  });
  await Promise.race([
    p.then(
      () => undefined,
      () => undefined,
    ),
    timeout,
  ]);
  clearTimeout(timer);
}
