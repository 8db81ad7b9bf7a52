/** `twinfed federations report <id>`: what a federation produced, for a researcher: today its calibration. */
import type { Command } from 'commander';
import { PlanSchema } from '@twinfed/shared';
import { calibrationReport, calibrationReportText } from '../calibration-report';
import { calibrationText } from '../calibration-table';
import { createContext, type CliDeps } from '../context';

/** Registers `report` under `twinfed federations`. */
export function registerFederationReport(federations: Command, deps: CliDeps): void {
  federations
    .command('report')
    .description(
      "A federation's results on the sites' own held-out data. Calibration: each site's expected calibration error (ECE, " +
        '10 bins) of the final version and, when the plan recalibrates (plan option `recalibration`), of the recalibrated ' +
        'version, with the fitted parameters and the recalibration’s state; then each site’s reliability curve of the ' +
        'version in use (the recalibrated one when there is one).',
    )
    .argument('<id>', 'a federation id')
    .addHelpText(
      'after',
      '\nExample:\n  $ twinfed federations report fed-1a2b3c4d\n\n' +
        '--json prints { federation, calibration: { finalVersionId, recalibratedVersionId, recalibration, sites, mean } }.\n',
    )
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const [federation, evaluations] = await Promise.all([
        ctx.client.getFederation(id),
        ctx.client.federationEvaluations(id),
      ]);
      const recalibrates = PlanSchema.safeParse(federation.plan).data?.recalibration !== undefined;
      const recalibration = recalibrates ? await ctx.client.recalibration(id) : null;
      const calibration = calibrationReport(evaluations, recalibration);
      ctx.emit({ federation, calibration }, () => {
        const inUse = calibration.recalibratedVersionId ?? calibration.finalVersionId;
        const curves = evaluations.versions.find((v) => v.versionId === inUse)?.evaluations ?? [];
        return (
          `Federation ${federation.id} (${federation.name}): ${federation.state}\n\n` +
          `${calibrationReportText(calibration)}\n` +
          `Reliability of ${inUse ?? '(no version)'}:\n${calibrationText(curves)}`
        );
      });
    });
}
