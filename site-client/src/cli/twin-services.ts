import * as path from 'node:path';
import { TwinfedError, type Logger } from '@twinfed/shared';
import { startLocalApi, type LocalApi } from '../local-api/server';
import { loadOrCreateLocalApiToken, LOCAL_API_TOKEN_FILE } from '../local-api/token';
import { IngestQueue } from '../stream/ingest-queue';
import { LiveScorer } from '../stream/live-scorer';
import type { ModelStore } from '../training/model-store';
import type { TwinStore } from '../twins/store-types';
import { writeJsonLine, type CliDeps } from './context';
import { isLoopback, type ListenAddress } from './parse';

/** The live part of a twin site: scores kept up to date, and the local API when asked for. */
export interface TwinServices {
  readonly scorer: LiveScorer;
  readonly api: LocalApi | null;
  close(): Promise<void>;
}

/**
 * Starts the live scorer over `store` and, with `listen`, the local API (token created once in the data dir).
 * Announces the API: `{"type":"local-api","localApi":"http://…","tokenFile":"…"}` with --json, a sentence otherwise.
 */
export async function startTwinServices(args: {
  deps: CliDeps;
  json: boolean;
  dataDir: string;
  store: TwinStore;
  listen: ListenAddress | null;
  logger: Logger;
  /** Identifier system of the hospital id in the local API's FHIR subjects. */
  patientIdentifierSystem?: string;
}): Promise<TwinServices> {
  const { deps, store, listen, logger } = args;
  const scorer = new LiveScorer({ store, logger });
  scorer.start();
  let api: LocalApi | null = null;
  if (listen) {
    const token = loadOrCreateLocalApiToken(args.dataDir);
    try {
      api = await startLocalApi({
        host: listen.host,
        port: listen.port,
        token,
        store,
        queue: new IngestQueue({ store }),
        scorer,
        logger,
        ...(args.patientIdentifierSystem ? { patientIdentifierSystem: args.patientIdentifierSystem } : {}),
      });
    } catch (e) {
      scorer.close();
      const code = (e as NodeJS.ErrnoException).code;
      throw new TwinfedError(
        'CONFIG_INVALID',
        `The local API cannot listen on ${listen.host}:${listen.port} (${code ?? 'error'}).`,
        { cause: e },
      );
    }
    const tokenFile = path.join(args.dataDir, LOCAL_API_TOKEN_FILE);
    if (args.json) writeJsonLine(deps.stdout, { type: 'local-api', localApi: api.url, tokenFile });
    else deps.stdout.write(`Local API listening on ${api.url} (bearer token in ${tokenFile}).\n`);
    if (!isLoopback(listen.host))
      deps.stderr.write(
        `warning: the local API listens on ${listen.host}, reachable from other machines; keep it behind the hospital firewall.\n`,
      );
  }
  return {
    scorer,
    api,
    close: async () => {
      await api?.close();
      scorer.close();
    },
  };
}

/** The twin federation to use from the model store: the given one, or the only twin federation stored. */
export function pickFederation(models: ModelStore, given: string | undefined): string | null {
  if (given) return given;
  const stored = models.federations({ twins: true });
  if (stored.length > 1)
    throw new TwinfedError(
      'CONFIG_INVALID',
      `Models of several federations are stored (${stored.join(', ')}): choose one with --federation <id>.`,
    );
  return stored[0] ?? null;
}
