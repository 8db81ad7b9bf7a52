/**
 * `twinfed federations report <id>`: what a federation produced — its final version, its calibration on the sites'
 * held-out data (before and after recalibration) and its cross-site evaluation.
 */
import type { Command } from 'commander';
import { TwinfedError, type CrossSiteView } from '@twinfed/shared';
import { calibrationReport, calibrationReportText } from '../calibration-report';
import { calibrationText } from '../calibration-table';
import { createContext, type CliDeps } from '../context';
import { crossSiteText } from '../cross-site-table';
import { renderKeyValues } from '../format';

/** Adds `report` to the `federations` command group. */
export function registerFederationReport(federations: Command, deps: CliDeps): void {
  federations
    .command('report')
    .description(
      "A federation's results: its state and final version; its calibration on the sites' own held-out data — each " +
        "site's expected calibration error (ECE, 10 bins) of the final version and, when the plan recalibrates (plan " +
        'option `recalibration`), of the recalibrated version, with the fitted parameters and the recalibration’s ' +
        'state, then each site’s reliability curve of the version in use; and — when its plan asks for one ' +
        "(crossSiteEvaluation) — the cross-site evaluation matrix signed by the coordinator: the global model and each site's " +
        "local-only model evaluated on every site's test data (AUC, or C-index for Cox models, and n).",
    )
    .argument('<id>', 'a federation id')
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed federations report heart-fedavg\n  $ twinfed federations report heart-fedavg --json\n\n' +
        '--json prints { federation, calibration: { finalVersionId, recalibratedVersionId, recalibration, sites, mean }, ' +
        'crossSite } (crossSite null when the plan does not ask for one).\n',
    )
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const [federation, evaluations] = await Promise.all([
        ctx.client.getFederation(id),
        ctx.client.federationEvaluations(id),
      ]);
      const recalibration = federation.plan.recalibration ? await ctx.client.recalibration(id) : null;
      const calibration = calibrationReport(evaluations, recalibration);
      let crossSite: CrossSiteView | null = null;
      if (federation.plan.crossSiteEvaluation) {
        crossSite = await ctx.client.crossSite(id).catch((e: unknown) => {
          if (e instanceof TwinfedError && e.code === 'CROSS_SITE_NOT_PLANNED') return null;
          throw e;
        });
      }
      const keys = crossSite?.matrix ? await ctx.client.coordinatorKeys() : null;
      ctx.emit({ federation, calibration, crossSite }, () => {
        const head = renderKeyValues([
          ['federation', federation.id],
          ['name', federation.name],
          ['state', federation.state],
          ['rounds', `${federation.currentRound} of ${federation.plan.rounds}`],
          ['final version', federation.latestVersionId],
        ]);
        const inUse = calibration.recalibratedVersionId ?? calibration.finalVersionId;
        const curves = evaluations.versions.find((v) => v.versionId === inUse)?.evaluations ?? [];
        const section = crossSite
          ? crossSiteText(crossSite, keys?.signPublicKey ?? '')
          : 'not asked for by the plan (crossSiteEvaluation)\n';
        return (
          `${head}\n${calibrationReportText(calibration)}\n` +
          `Reliability of ${inUse ?? '(no version)'}:\n${calibrationText(curves)}\n` +
          `Cross-site evaluation:\n${section}`
        );
      });
    });
}
