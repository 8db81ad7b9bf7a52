import { TwinfedError, type Logger } from '@twinfed/shared';
import type { SiteConfig } from '../config';
import type { Enrollment } from '../identity/load';
import { ModelStore } from '../training/model-store';
import { HttpPopulationApi, PopulationOutbox } from '../training/population-outbox';
import type { VersionHook } from '../training/runner-options';
import { TwinDatasetSource } from '../training/twin-dataset';
import { twinVersionHook } from '../training/twin-publisher';
import type { HttpTransportOptions } from '../transport/http';
import { openTwinStore } from '../twins/store';
import type { TwinCounts } from '../twins/store-types';
import type { CliDeps } from './context';
import type { ListenAddress } from './parse';
import { startTwinServices, type TwinServices } from './twin-services';

/** Flags of `run` that concern the twin store. */
interface TwinRunFlags {
  federation: string;
  at?: number;
  testFraction: number;
  splitSeed: number;
  listen?: ListenAddress;
  json?: boolean;
}

/** What `run --twins` hands the runner, and what it must close afterwards. */
export interface TwinRun {
  datasetSource: TwinDatasetSource;
  afterVersion: VersionHook;
  counts: TwinCounts;
  services: TwinServices | null;
  close(): Promise<void>;
}

/**
 * Sets up a twin site for `run`: the twin store as a dataset source rebuilt every round, the version hook that
 * stores each verified version, rescores the twins and sends the population report, and (with --listen) the
 * local API with live scores, starting from the model stored by an earlier run.
 */
export async function setupTwinRun(args: {
  deps: CliDeps;
  flags: TwinRunFlags;
  config: SiteConfig;
  logger: Logger;
  enrollment: Enrollment;
  http: HttpTransportOptions;
}): Promise<TwinRun> {
  const { deps, flags, config, logger, enrollment } = args;
  const store = await openTwinStore({ dataDir: config.dataDir });
  let services: TwinServices | null = null;
  try {
    const counts = await store.counts();
    if (counts.patients === 0)
      throw new TwinfedError(
        'CONFIG_INVALID',
        'The twin store is empty: load patients first with `twinfed-site ingest fhir <file>`.',
      );
    const models = new ModelStore(config.dataDir, enrollment.coordinator.signPublicKey);
    services = flags.listen
      ? await startTwinServices({
          deps,
          json: flags.json === true,
          dataDir: config.dataDir,
          store,
          listen: flags.listen,
          logger,
        })
      : null;
    if (services) {
      try {
        const stored = models.load(flags.federation);
        if (stored) await services.scorer.setModel(stored);
      } catch (e) {
        deps.stderr.write(`warning: the stored model is not used: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
    const scorer = services?.scorer;
    const afterVersion = twinVersionHook({
      federationId: flags.federation,
      store,
      models,
      outbox: PopulationOutbox.open(config.dataDir, { epsilonBudget: config.populationEpsilonBudget }),
      api: new HttpPopulationApi(args.http),
      at: flags.at ?? null,
      ...(scorer
        ? {
            onModel: (m) =>
              void scorer
                .setModel(m)
                .catch((e: unknown) =>
                  logger.error(
                    { err: e instanceof Error ? e.message : String(e) },
                    'live scorer could not switch model',
                  ),
                ),
          }
        : {}),
    });
    const datasetSource = new TwinDatasetSource({
      store,
      ...(flags.at !== undefined ? { at: flags.at } : {}),
      testFraction: flags.testFraction,
      seed: flags.splitSeed,
    });
    const open = services;
    return {
      datasetSource,
      afterVersion,
      counts,
      services: open,
      close: async () => {
        await open?.close();
        await store.close();
      },
    };
  } catch (e) {
    await services?.close();
    await store.close();
    throw e;
  }
}
