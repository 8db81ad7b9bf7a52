/** `twinfed coordinator start`: runs the coordinator in the foreground until SIGINT/SIGTERM. */
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createAdminClient } from '../admin-client';
import {
  OPERATOR_TOKEN_FILE,
  createContext,
  type CliDeps,
  type CoordinatorRuntime,
  type GlobalOptions,
  type OnSignal,
  type StartOverrides,
} from '../context';
import { parseTrustProxy } from '../../config';
import { redactStore } from '../../store/location';
import { renderKeyValues } from '../format';
import { registerCopyStore } from './copy-store';

/** Loads the real coordinator only when `coordinator start` runs. */
async function realRuntime(): Promise<CoordinatorRuntime> {
  const [
    { loadConfig },
    { LOG_BINDINGS, startCoordinator },
    { createLogger },
    { crashPointsFrom, crashPointsFromFile },
  ] = await Promise.all([
    import('../../config'),
    import('../../main'),
    import('@twinfed/shared'),
    import('../../rounds/crash-points'),
  ]);
  return {
    async start({ env, overrides, log }) {
      const config = loadConfig(env, overrides);
      const logger = createLogger({
        level: config.logLevel,
        bindings: LOG_BINDINGS,
        destination: { write: (line: string) => void log.write(line) },
      });
      // Fault tests only: die with SIGKILL at a named point of the round engine (see rounds/crash-points.ts).
      const die = () => process.kill(process.pid, 'SIGKILL');
      const crashPoints =
        crashPointsFrom(env.TWINFED_TEST_CRASH_AT, die) ?? crashPointsFromFile(env.TWINFED_TEST_CRASH_FILE, die);
      return {
        config,
        coordinator: await startCoordinator(config, { logger, ...(crashPoints ? { crashPoints } : {}) }),
      };
    },
  };
}

const processSignals: OnSignal = (signals, handler) => {
  for (const s of signals) process.on(s, handler);
  return () => signals.forEach((s) => process.off(s, handler));
};

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0–65535).');
  return n;
}

interface StartFlags {
  host?: string;
  port?: number;
  memory?: boolean;
  store?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string;
  redis?: string;
}

/** Adds the `coordinator` command group to `program`. */
export function registerCoordinator(program: Command, deps: CliDeps): void {
  const coordinator = program
    .command('coordinator')
    .description('Run the coordinator server of a consortium.')
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed coordinator start --data-dir /var/lib/twinfed --host 0.0.0.0 --port 8470\n',
    );

  coordinator
    .command('start')
    .description(
      'Start the coordinator in the foreground. On first start it creates its signing and encryption keys and an operator ' +
        'token in the data dir (--data-dir, TWINFED_DATA_DIR or ./.twinfed). Prints its URL, the key fingerprint sites confirm ' +
        'when they enroll, and where the operator token is. Ctrl+C (SIGINT) or SIGTERM stops it gracefully: new requests ' +
        'are refused with 503, in-flight uploads and round transitions finish (TWINFED_SHUTDOWN_GRACE_MS, default 10 s), ' +
        'then the database is closed. Every round resumes from the database on the next start, even after a crash. ' +
        'Replicas sharing one store each drive the federations whose lease they hold (TWINFED_REPLICA_ID, default the ' +
        'host name; TWINFED_DRIVER_LEASE_TTL_MS, default 10 s; TWINFED_CATCH_UP_POLL_MS, default 1 s).',
    )
    .option('--host <host>', 'interface to listen on (default TWINFED_HOST or 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 for any free port (default TWINFED_PORT or 8470)', port)
    .addOption(
      new Option('--memory', 'keep everything in memory (nothing survives a restart; for trials and tests)').conflicts(
        'store',
      ),
    )
    .option(
      '--store <location>',
      'where state lives: sqlite (default: <data dir>/coordinator.db), a SQLite file path or file: URL, or ' +
        'postgres://user@host:5432/db?schema=<name> for several replicas on one PostgreSQL, TWINFED_STORE_POOL_SIZE ' +
        'connections each, default 10 (default TWINFED_STORE_URL)',
    )
    .option(
      '--tls-cert <pem>',
      'serve HTTPS + WSS with this certificate (chain, PEM); needs --tls-key (default TWINFED_TLS_CERT)',
    )
    .option('--tls-key <pem>', 'private key of --tls-cert (PEM, keep it mode 0600) (default TWINFED_TLS_KEY)')
    .option(
      '--trust-proxy <addrs>',
      'comma-separated addresses/CIDRs of a TLS-terminating reverse proxy whose X-Forwarded-For is believed (default TWINFED_TRUST_PROXY; none)',
    )
    .option(
      '--redis <url>',
      'redis:// URL shared by the replicas of this coordinator: push events reach sites connected to any replica and failed authentications are counted across replicas (default TWINFED_REDIS_URL; none: this process only; key prefix TWINFED_REDIS_PREFIX, default twinfed:)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed coordinator start\n  $ twinfed coordinator start --data-dir ./consortium --port 9000\n  $ twinfed coordinator start --memory --port 0\n' +
        "  $ twinfed coordinator start --store 'postgres://twinfed@db.example.org:5432/twinfed?schema=consortium'\n" +
        '  $ twinfed tls init --out ./tls --host coordinator.example.org\n' +
        '  $ twinfed coordinator start --host 0.0.0.0 --tls-cert ./tls/server.pem --tls-key ./tls/server-key.pem\n\n' +
        'With TLS, SIGHUP (kill -HUP <pid>) reloads the certificate and key without dropping connected sites; a reload that\n' +
        'fails keeps the previous certificate and logs an error. Behind a reverse proxy that terminates TLS, list it with\n' +
        '--trust-proxy so that rate limits see the real client address.\n\n' +
        'Replicas: several coordinators may share one store; give them all the same --redis so that push events and\n' +
        'failed-authentication counts are shared (/readyz says push: local, redis, or degraded while Redis is away: sites\n' +
        'then poll, as they always do). Sites list every replica: twinfed-site run --coordinator <url1>,<url2>.\n\n' +
        '  $ twinfed coordinator start --host 0.0.0.0 --redis redis://redis.internal:6379\n\n' +
        'Then, in another terminal on the same host:\n  $ twinfed --data-dir ./consortium --url http://127.0.0.1:9000 sites invite "St Mary Hospital"\n',
    )
    .action(async (flags: StartFlags, cmd: Command) => {
      const ctx = createContext(cmd, deps, { offline: true });
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const overrides: StartOverrides = {};
      if (globals.dataDir !== undefined) overrides.dataDir = path.resolve(globals.dataDir);
      if (flags.host !== undefined) overrides.host = flags.host;
      if (flags.port !== undefined) overrides.port = flags.port;
      if (flags.memory) overrides.store = 'memory';
      if (flags.store !== undefined) overrides.store = flags.store;
      if (flags.tlsCert !== undefined) overrides.tlsCert = path.resolve(flags.tlsCert);
      if (flags.tlsKey !== undefined) overrides.tlsKey = path.resolve(flags.tlsKey);
      if (flags.trustProxy !== undefined) overrides.trustProxy = parseTrustProxy(flags.trustProxy) ?? [];
      if (flags.redis !== undefined) overrides.redisUrl = flags.redis;
      const runtime = await (deps.runtime ?? realRuntime)();
      const { config, coordinator: running } = await runtime.start({ env: deps.env, overrides, log: deps.stderr });
      const tokenFile = running.operatorTokenFile ?? path.join(config.dataDir, OPERATOR_TOKEN_FILE);
      const fingerprint = running.fingerprint ?? (await fetchFingerprint(running.url, deps));
      const store = redactStore(config.store);
      ctx.emit({ url: running.url, fingerprint, dataDir: config.dataDir, store, tokenFile }, () =>
        [
          `twinfed coordinator listening on ${running.url}`,
          renderKeyValues([
            ['data dir', `${config.dataDir} (${store})`],
            ['fingerprint', fingerprint],
            ['operator token', `${tokenFile} (keep it secret; twinfed reads it via --data-dir, or set TWINFED_TOKEN)`],
          ]).trimEnd(),
          'Sites confirm the fingerprint when they enroll. Press Ctrl+C to stop.',
        ].join('\n'),
      );
      const onSignal = deps.onSignal ?? processSignals;
      const offReload =
        running.tls && running.reloadTls ? onSignal(['SIGHUP'], () => reload(running, deps)) : () => undefined;
      await waitForSignal(onSignal);
      offReload();
      ctx.print('Stopping the coordinator…');
      await running.close();
      ctx.print('Stopped.');
    });

  registerCopyStore(coordinator, deps);
}

/** SIGHUP: new certificate for new connections; on failure the coordinator logged why and keeps the old one. */
function reload(running: { reloadTls?(): void }, deps: CliDeps): void {
  try {
    running.reloadTls?.();
  } catch (e) {
    deps.stderr.write(`twinfed: TLS reload failed, still serving the previous certificate: ${(e as Error).message}\n`);
  }
}

async function fetchFingerprint(url: string, deps: CliDeps): Promise<string | null> {
  const client = createAdminClient({ baseUrl: url, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  try {
    return (await client.coordinatorKeys()).fingerprint;
  } catch (e) {
    deps.stderr.write(`twinfed: warning: could not read the coordinator keys (${(e as Error).message})\n`);
    return null;
  }
}

function waitForSignal(onSignal: OnSignal): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const off = onSignal(['SIGINT', 'SIGTERM'], (signal) => {
      off();
      resolve(signal);
    });
  });
}
