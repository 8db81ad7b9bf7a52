import type { Command } from 'commander';
import { readSiteState } from '../../identity/site-state';
import { DEFAULT_LOCAL_API_PORT } from '../../local-api/server';
import { openTwinStore } from '../../twins/store';
import { openSiteModels } from '../site-models';
import {
  commandContext,
  dataDirOption,
  patientSystemOption,
  writeJsonLine,
  type CliDeps,
  type CommonFlags,
} from '../context';
import { listenArg, positiveInt, type ListenAddress } from '../parse';
import { pickFederation, startTwinServices } from '../twin-services';

interface ServeFlags extends CommonFlags {
  listen: ListenAddress;
  federation?: string;
  modelPoll: number;
  patientSystem?: string;
}

/** `twinfed-site serve`: the local streaming and scoring API on its own (no federation work). */
export function addServeCommand(program: Command, deps: CliDeps): void {
  program
    .command('serve')
    .summary('run the local API: wearable stream in, live scores out')
    .description(
      'Run the local, authenticated API of this site without taking part in a federation: device gateways post ' +
        'wearable batches or FHIR Observations to POST /v1/observations (idempotent by sample id); each changed twin ' +
        'is rescored within a second with the latest verified model stored in the data directory, served by ' +
        'GET /v1/scores?top=20 and GET /v1/twins/<pid>/score (as FHIR R4 RiskAssessments for the EHR with ' +
        '?format=fhir or Accept: application/fhir+json: the subject is the hospital patient id, audited). Callers present the bearer token from ' +
        '<data-dir>/local-api.token (created once, mode 0600). Listens on 127.0.0.1 unless told otherwise. ' +
        'A model published later (by `run --twins` in another process) is picked up automatically.',
    )
    .option('--listen <host:port>', 'where to listen', listenArg, { host: '127.0.0.1', port: DEFAULT_LOCAL_API_PORT })
    .option('--federation <id>', 'federation whose model scores the twins (default: the only one stored)')
    .option(
      '--model-poll <ms>',
      'how often to look for a newer stored model',
      positiveInt('the model poll interval'),
      5000,
    )
    .addOption(patientSystemOption())
    .addOption(dataDirOption())
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  $ twinfed-site serve --data-dir ./site-a\n' +
        '  $ curl -H "Authorization: Bearer $(cat ./site-a/local-api.token)" -H "content-type: application/json" \\\n' +
        '      -d \'{"deviceId":"w-1","patientRef":"Patient/123","samples":[{"id":"s1","t":"2025-01-28T08:00:00Z","code":"40443-4","value":88,"unit":"/min"}]}\' \\\n' +
        '      http://127.0.0.1:8471/v1/observations\n' +
        '\nStops on Ctrl-C (exit 0).',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ServeFlags>();
      const { config, logger } = commandContext(deps, flags);
      const models = readSiteState(config.dataDir) ? openSiteModels(config.dataDir).models : null;
      if (!models)
        deps.stderr.write(
          'warning: this site is not enrolled, so no verified model can be used: observations are stored, no scores are served.\n',
        );
      const store = await openTwinStore({ dataDir: config.dataDir });
      const services = await startTwinServices({
        deps,
        json: flags.json === true,
        dataDir: config.dataDir,
        store,
        listen: flags.listen,
        logger,
        ...(flags.patientSystem ? { patientIdentifierSystem: flags.patientSystem } : {}),
      }).catch(async (e: unknown) => {
        await store.close();
        throw e;
      });
      let loaded = '';
      const loadModel = async (): Promise<void> => {
        const fid = models ? pickFederation(models, flags.federation) : null;
        const model = fid && models ? models.load(fid) : null;
        if (!model || `${fid}/${model.meta.versionId}` === loaded) return;
        loaded = `${fid}/${model.meta.versionId}`;
        await services.scorer.setModel(model);
        if (flags.json)
          writeJsonLine(deps.stdout, {
            type: 'model',
            federationId: fid,
            versionId: model.meta.versionId,
            round: model.meta.round,
            scored: services.scorer.status().scored,
          });
        else
          deps.stdout.write(
            `Scoring with model version ${model.meta.versionId} of federation ${fid} (${services.scorer.status().scored} twins scored).\n`,
          );
      };
      try {
        await loadModel();
        await new Promise<void>((resolve) => {
          const timer = setInterval(
            () =>
              void loadModel().catch((e: unknown) =>
                deps.stderr.write(`warning: ${e instanceof Error ? e.message : String(e)}\n`),
              ),
            flags.modelPoll,
          );
          const off = (deps.onInterrupt ?? (() => () => undefined))(() => {
            clearInterval(timer);
            off();
            resolve();
          });
        });
      } finally {
        await services.close();
        await store.close();
      }
    });
}
