import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fingerprint, loadOrCreateIdentity, publicPart, type Identity } from '@twinfed/shared';
import type { CoordinatorConfig } from './config';
import { createApp } from './http/app';
import { createLogger, type Logger } from './logger';
import { RoundEngine } from './rounds/engine';
import type { EngineEvents } from './rounds/events';
import { attachSockets } from './socket/server';
import { openStore, type Store } from './store';
import { ensureOperatorToken, operatorTokenPath } from './bootstrap';

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
  /** Stops accepting, ends timers, closes sockets, the HTTP server and the database. */
  close(): Promise<void>;
}

/** Optional collaborators (tests inject a clock, a logger or a store). */
export interface StartOptions {
  logger?: Logger;
  store?: Store;
  now?: () => number;
}

/** The composition root: keys, store, round engine, HTTP + socket.io, resume of every running federation. */
export async function startCoordinator(config: CoordinatorConfig, options: StartOptions = {}): Promise<RunningCoordinator> {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { identity, created } = loadOrCreateIdentity({ dir: config.dataDir, name: 'coordinator' });
  const store = options.store ?? (await openStore(config.store === 'sqlite' ? { kind: 'sqlite', path: path.join(config.dataDir, 'coordinator.db') } : { kind: 'memory' }));
  await ensureOperatorToken({ store, dataDir: config.dataDir, now });

  let push: EngineEvents | null = null;
  const events: EngineEvents = {
    roundOpened: (e) => push?.roundOpened(e),
    roundFailed: (e) => push?.roundFailed(e),
    modelPublished: (e) => push?.modelPublished(e),
    federationEnded: (e) => push?.federationEnded(e),
  };
  const engine = new RoundEngine({ store, identity, logger, events, now, maxConcurrentUploads: config.maxConcurrentUploads, maxUpdateBytes: config.maxUpdateBytes });
  let sockets: ReturnType<typeof attachSockets> | null = null;
  const app = createApp({ config, store, engine, identity, logger, now, onSiteRevoked: (id) => sockets?.disconnectSite(id) });
  const server = http.createServer(app);
  sockets = attachSockets({ httpServer: server, store, logger, requestWindowMs: config.requestWindowMs, now });
  push = sockets.events;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const fp = fingerprint(publicPart(identity));
  logger.info({ url, fingerprint: fp, newKeys: created, store: config.store }, 'coordinator listening');
  await engine.resume();

  const pruner = setInterval(() => void store.pruneNonces(new Date(now()).toISOString()).catch(() => undefined), 60_000);
  pruner.unref();
  let closing: Promise<void> | null = null;
  return {
    url, port, fingerprint: fp, operatorTokenFile: operatorTokenPath(config.dataDir), store, engine, identity, logger,
    close: () =>
      (closing ??= (async () => {
        clearInterval(pruner);
        engine.close();
        await sockets!.close();
        server.closeAllConnections();
        if (!options.store) await store.close();
        logger.info('coordinator stopped');
      })()),
  };
}
