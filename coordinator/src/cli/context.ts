/**
 * What every command needs: the injected process surroundings (env, output streams, fetch, the coordinator
 * runtime) and the resolved global options (URL, token, data dir, output mode).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_COORDINATOR_PORT,
  TwinfedError,
  createFetch,
  envFlag,
  printable,
  printableJson,
  readCaFile,
  requireSecureUrl,
} from '@twinfed/shared';
import { createAdminClient, type AdminClient } from './admin-client';

/** Anything with a `write(text)` (process.stdout, a test buffer). */
export interface Output {
  write(text: string): unknown;
}

/** A running coordinator as `startCoordinator` returns it. */
export interface RunningCoordinator {
  url: string;
  /** Fingerprint of the coordinator's public keys; fetched from `routes.coordinatorKeys` when absent. */
  fingerprint?: string;
  /** Where the operator token file is; `<dataDir>/operator.token` when absent. */
  operatorTokenFile?: string;
  /** True when it serves HTTPS; then SIGHUP calls {@link RunningCoordinator.reloadTls}. */
  tls?: boolean;
  /** Re-reads the certificate and key (throws, keeping the old ones, when they are unusable). */
  reloadTls?(): void;
  close(): Promise<void>;
}

/** Flags of `twinfed coordinator start` that override the environment. */
export interface StartOverrides {
  dataDir?: string;
  host?: string;
  port?: number;
  /** A store location: `sqlite`, `memory`, a SQLite path or `file:` URL, or a `postgres://` URL. */
  store?: string;
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string[];
  redisUrl?: string;
}

/** What `twinfed coordinator start` needs from the coordinator package (injected in tests). */
export interface CoordinatorRuntime {
  /** `loadConfig(env, overrides)` then `startCoordinator(config)`, logging to `log` (stderr, so stdout stays ours). */
  start(opts: { env: NodeJS.ProcessEnv; overrides: StartOverrides; log: Output }): Promise<{
    config: { dataDir: string; host: string; port: number; store: string };
    coordinator: RunningCoordinator;
  }>;
}

/** Subscribes to termination signals; returns an unsubscribe function. */
export type OnSignal = (signals: readonly NodeJS.Signals[], handler: (signal: NodeJS.Signals) => void) => () => void;

/** The process surroundings, read once in main.ts and passed down. */
export interface CliDeps {
  env: NodeJS.ProcessEnv;
  stdout: Output;
  stderr: Output;
  fetch?: typeof fetch;
  /** Loads the coordinator lazily by default (so `twinfed sites list` never loads the server). */
  runtime?: () => Promise<CoordinatorRuntime>;
  onSignal?: OnSignal;
  /** Request timeout of the admin client (default 30 s). */
  timeoutMs?: number;
}

/** Global options as commander parses them. */
export interface GlobalOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
  debug?: boolean;
  /** PEM file of the CA that signed the coordinator's certificate (a private consortium CA). */
  ca?: string;
  /** Allow plain http to a host that is not loopback. */
  insecureHttp?: boolean;
}

/** Everything an action needs, resolved once per invocation. */
export interface CommandContext {
  deps: CliDeps;
  url: string;
  dataDir: string;
  tokenFile: string;
  json: boolean;
  debug: boolean;
  client: AdminClient;
  /** Writes text (a trailing newline is added when missing, control characters escaped) unless `--json`. */
  print(text: string): void;
  /** Writes `value` as one line of JSON when `--json`, otherwise `text()`. */
  emit(value: unknown, text: () => string): void;
}

/** Name of the operator token file inside the data dir (written by the coordinator on first start). */
export const OPERATOR_TOKEN_FILE = 'operator.token';

/** The data dir: `--data-dir`, else TWINFED_DATA_DIR, else `.twinfed` (the coordinator's own default). */
function resolveDataDir(opts: GlobalOptions, env: NodeJS.ProcessEnv): string {
  return path.resolve(opts.dataDir ?? env.TWINFED_DATA_DIR ?? '.twinfed');
}

/** The coordinator URL: `--url`, else TWINFED_URL, else the local default. */
function resolveUrl(opts: GlobalOptions, env: NodeJS.ProcessEnv): string {
  const raw = opts.url ?? env.TWINFED_URL ?? `http://127.0.0.1:${DEFAULT_COORDINATOR_PORT}`;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new TwinfedError('BAD_REQUEST', `Not a URL: ${raw}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TwinfedError('BAD_REQUEST', `The coordinator URL must be http(s): ${raw}`);
  return raw.replace(/\/+$/, '');
}

/** The CA file: `--ca`, else TWINFED_CA (absent: the system's CAs). */
function resolveCaFile(opts: GlobalOptions, env: NodeJS.ProcessEnv): string | undefined {
  const file = opts.ca ?? (env.TWINFED_CA || undefined);
  return file === undefined ? undefined : path.resolve(file);
}

async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TwinfedError(
      'UNAUTHENTICATED',
      `No operator token: pass --token, set TWINFED_TOKEN, or point --data-dir at the coordinator's data directory (${code === 'ENOENT' ? 'no file' : `cannot read`} ${file}).`,
    );
  }
  const token = text.trim();
  if (!token) throw new TwinfedError('UNAUTHENTICATED', `The operator token file ${file} is empty.`);
  return token;
}

/**
 * Builds the context of one command invocation from its global options. Before anything is sent, the URL must be
 * https or loopback http (`INSECURE_URL` otherwise, unless --insecure-http / TWINFED_INSECURE_HTTP); `offline`
 * commands (`coordinator start`, `tls init`) never contact the URL and skip that check.
 */
export function createContext(command: Command, deps: CliDeps, mode: { offline?: boolean } = {}): CommandContext {
  const opts = command.optsWithGlobals<GlobalOptions>();
  const json = opts.json === true;
  const debug = opts.debug === true;
  const url = resolveUrl(opts, deps.env);
  if (!mode.offline)
    requireSecureUrl(url, {
      insecureHttp: opts.insecureHttp === true || envFlag(deps.env.TWINFED_INSECURE_HTTP),
      what: 'The coordinator URL (--url or TWINFED_URL)',
    });
  const caFile = mode.offline ? undefined : resolveCaFile(opts, deps.env);
  const ca = caFile === undefined ? undefined : readCaFile(caFile, opts.ca !== undefined ? '--ca' : 'TWINFED_CA');
  const fetchImpl = deps.fetch ?? (ca !== undefined ? createFetch({ ca }) : undefined);
  const dataDir = resolveDataDir(opts, deps.env);
  const tokenFile = path.join(dataDir, OPERATOR_TOKEN_FILE);
  const given = opts.token ?? deps.env.TWINFED_TOKEN;
  let cached: Promise<string> | undefined;
  const token = (): Promise<string> => (cached ??= given ? Promise.resolve(given) : readTokenFile(tokenFile));
  const client = createAdminClient({
    baseUrl: url,
    token,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
    ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}),
    ...(debug ? { debug: (line: string) => deps.stderr.write(`[debug] ${line}\n`) } : {}),
  });
  // Last line of defence: whatever a command renders, no terminal control character reaches stdout raw.
  const print = (text: string): void => {
    if (!json) deps.stdout.write(printable(text.endsWith('\n') ? text : `${text}\n`, { keepNewlines: true }));
  };
  const emit = (value: unknown, text: () => string): void => {
    if (json) deps.stdout.write(`${printableJson(value)}\n`);
    else print(text());
  };
  return { deps, url, dataDir, tokenFile, json, debug, client, print, emit };
}
