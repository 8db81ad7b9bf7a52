import { Option, type Command } from 'commander';
import type { ExplainMethod } from '@twinfed/models';
import { TwinfedError } from '@twinfed/shared';
import { scoreView } from '../../local-api/server';
import { collectionBundle, riskAssessmentsFor } from '../../scoring/risk-assessment';
import { scoreTwins, type TwinScore } from '../../scoring/score';
import { readTwins } from '../../training/twin-dataset';
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
import { instantArg, numberArg, positiveInt } from '../parse';
import { pickFederation } from '../twin-services';

interface ScoreFlags extends CommonFlags {
  federation?: string;
  patient?: string;
  top: number;
  contributions: number;
  at?: number;
  actor?: string;
  explain: ExplainMethod;
  format: 'text' | 'json' | 'fhir';
  patientSystem?: string;
}

function render(s: TwinScore, rank: number): string {
  const head = `${String(rank).padStart(3)}. twin ${s.pid.slice(0, 12)}…  score ${s.score.toFixed(2)}  ${s.tier}`;
  return [head, ...s.contributions.map((c) => `       ${c.text}`)].join('\n');
}

/** `twinfed-site score`: susceptibility scores of the site's twins from the latest verified global model. */
export function addScoreCommand(program: Command, deps: CliDeps): void {
  program
    .command('score')
    .summary('show susceptibility scores with their explanations (decision support)')
    .description(
      'Score the twins in the twin store with the latest verified global model stored in the data directory (its ' +
        'signature and weights are verified again against the pinned coordinator key). Each score gives the ' +
        "probability of the plan's outcome, a risk tier, the model version that made it, and the features that " +
        'contributed most, in clinical words. The scores support clinicians; they do not replace clinical judgement. ' +
        'Runs offline; nothing is sent. Looking a patient up by hospital id is audited in the twin store, and so is ' +
        'each hospital id that --format fhir writes into a RiskAssessment for the EHR.',
    )
    .option('--federation <id>', 'federation whose model to use (default: the only one stored)')
    .option('--patient <hospital-id>', 'score one patient, named by the hospital id (resolved locally, audited)')
    .option('--top <n>', 'how many of the highest scores to show', positiveInt('top'), 20)
    .option(
      '--contributions <n>',
      'contributions shown per score',
      numberArg('contributions must be an integer from 0 to 50', (n) => Number.isInteger(n) && n >= 0 && n <= 50),
      3,
    )
    .option(
      '--at <instant>',
      'snapshot time of the features (default: the --at the model was trained with, else now)',
      instantArg,
    )
    .option('--actor <name>', 'who looks a patient up, for the audit log (default $USER)')
    .addOption(
      new Option(
        '--explain <method>',
        'how contributions are computed: auto (linear for logistic regression, Shapley values otherwise), ' +
          "shapley (against a seeded sample of this site's twins), linear, integrated-gradients",
      )
        .choices(['auto', 'shapley', 'linear', 'integrated-gradients'])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--format <format>',
        'output: text, json (like --json), or fhir (FHIR R4 RiskAssessments with the hospital patient id, audited)',
      )
        .choices(['text', 'json', 'fhir'])
        .default('text'),
    )
    .addOption(patientSystemOption())
    .addOption(dataDirOption())
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed-site score --top 10\n  $ twinfed-site score --patient MRN-00042 --actor dr.lee\n  $ twinfed-site score --federation fed-1 --json\n  $ twinfed-site score --top 50 --format fhir --actor dr.lee > risk-assessments.json',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<ScoreFlags>();
      const { config } = commandContext(deps, flags);
      const { models } = openSiteModels(config.dataDir);
      const federationId = pickFederation(models, flags.federation);
      const model = federationId ? models.load(federationId) : null;
      if (!federationId || !model) {
        throw new TwinfedError(
          'NOT_FOUND',
          `No verified model is stored${federationId ? ` for federation ${federationId}` : ''} yet: run \`twinfed-site run --twins\` until a version is published.`,
        );
      }
      const store = await openTwinStore({ dataDir: config.dataDir });
      try {
        let pids: string[] | undefined;
        if (flags.patient !== undefined) {
          const pid = await store.resolvePatient({ hospitalId: flags.patient });
          if (!pid) throw new TwinfedError('NOT_FOUND', 'No twin has this hospital id.');
          await store.resolveHospitalId(pid, {
            actor: flags.actor ?? deps.env.USER ?? 'cli',
            reason: 'twinfed-site score --patient',
          });
          pids = [pid];
        }
        const twins = await readTwins(store, pids);
        const at = flags.at ?? model.at ?? Date.now();
        const all = await scoreTwins({
          twins,
          plan: model.plan,
          weights: model.weights,
          baseline: model.meta.coxBaseline,
          versionId: model.meta.versionId,
          at,
          top: flags.contributions,
          explain: flags.explain,
          explainHighest: flags.top,
          ...(model.meta.recalibration ? { recalibration: model.meta.recalibration } : {}),
          ...(model.preprocessing ? { preprocessing: model.preprocessing } : {}),
        });
        const scores = [...all].sort((a, b) => b.score - a.score).slice(0, flags.top);
        if (flags.patient !== undefined && scores.length === 0)
          throw new TwinfedError('FORBIDDEN', "This patient's scoring consent is denied.");
        const version = {
          federationId,
          versionId: model.meta.versionId,
          round: model.meta.round,
          at: new Date(at).toISOString(),
        };
        if (flags.format === 'fhir') {
          const resources = await riskAssessmentsFor({
            scores,
            store,
            actor: flags.actor ?? deps.env.USER ?? 'cli',
            reason: 'twinfed-site score --format fhir',
            version: model.meta,
            plan: model.plan,
            ...(flags.patientSystem ? { identifierSystem: flags.patientSystem } : {}),
          });
          return writeJsonLine(deps.stdout, flags.patient !== undefined ? resources[0] : collectionBundle(resources));
        }
        if (flags.json || flags.format === 'json')
          return writeJsonLine(deps.stdout, {
            type: 'scores',
            ...version,
            scored: all.length,
            scores: scores.map(scoreView),
          });
        deps.stdout.write(
          [
            `Susceptibility scores from model version ${version.versionId} (federation ${federationId}, round ${version.round}), snapshot ${version.at}.`,
            'Decision support for clinicians: the scores do not replace clinical judgement.',
            flags.patient !== undefined
              ? `Patient ${flags.patient} (this lookup is audited):`
              : `Top ${scores.length} of ${all.length} scored twins:`,
            ...scores.map((s, i) => render(s, i + 1)),
            '',
          ].join('\n'),
        );
      } finally {
        await store.close();
      }
    });
}
