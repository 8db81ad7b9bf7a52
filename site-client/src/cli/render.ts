import { printable } from '@twinfed/shared';
import type { RunnerProgress } from '../training/progress';
import type { TextOut } from './context';

const fmt = (v: number | undefined, digits = 3): string => (v === undefined ? 'n/a' : v.toFixed(digits));

/** Display names of the metrics a site evaluates, in display order. */
const METRIC_LABELS: ReadonlyArray<readonly [string, string]> = [
  ['accuracy', 'accuracy'],
  ['auc', 'AUC'],
  ['loss', 'loss'],
  ['brier', 'Brier'],
];

/** `accuracy 0.750, AUC 0.812, loss 0.512, Brier 0.180` (n/a when missing), then any other metric by name. */
export function metricsText(m: Readonly<Record<string, number>>): string {
  const known = METRIC_LABELS.map(([k, label]) => `${label} ${fmt(m[k])}`);
  const other = Object.keys(m)
    .filter((k) => !METRIC_LABELS.some(([name]) => name === k))
    .sort()
    .map((k) => `${printable(k)} ${fmt(m[k])}`);
  return [...known, ...other].join(', ');
}

/** One human-readable line per progress event (stdout), warnings and refusals on stderr. */
export function renderProgress(event: RunnerProgress, out: { stdout: TextOut; stderr: TextOut }): void {
  const line = (s: string): unknown => out.stdout.write(`${s}\n`);
  switch (event.type) {
    case 'plan':
      return void line(
        `Plan ${event.planSha256.slice(0, 12)}… of ${event.federationId}: approved ${event.decidedBy === 'policy' ? "by this site's policy" : `by ${event.by}`} on ${event.at}.`,
      );
    case 'started':
      return void line(
        `Joined federation ${event.federationId} as site ${event.siteId}: ${event.trainRows} training rows, ${event.testRows} test rows.`,
      );
    case 'connection':
      return void line(
        event.connected
          ? 'Push events connected.'
          : `Push events disconnected${event.reason ? ` (${event.reason})` : ''}; polling continues.`,
      );
    case 'round':
      if (event.state !== 'open' && event.state !== 'collecting') return;
      return void line(
        `Round ${event.round} is ${event.state}: this site is ${event.selected ? 'selected' : 'not selected'}${event.submitted ? ' (already submitted)' : ''}.`,
      );
    case 'dataset':
      return void line(
        `${event.round === null ? 'Before evaluating' : `Round ${event.round}`}: training set rebuilt from the twin store: ${event.trainRows} training rows, ${event.testRows} test rows.`,
      );
    case 'stats':
      if (event.state === 'ready')
        return void line(`Federated normalisation statistics ready (secure sum over ${event.cohort} sites).`);
      return void line(
        `Federated normalisation: ${event.contributed ?? 0} of ${event.cohort} sites have sent their masked statistics; waiting for the rest.`,
      );
    case 'recalibration':
      if (event.state === 'fitted')
        return void line(`Recalibrated version ${event.versionId} is out (secure sum over ${event.cohort} sites).`);
      if (event.state === 'expired' || event.state === 'failed')
        return void line(`Recalibration ${event.state}: ${event.reason ?? ''} The final version stays as it is.`);
      return void line(
        `Recalibration: ${event.contributed} of ${event.cohort} sites have sent their masked histograms; waiting for the rest.`,
      );
    case 'baseline':
      if (event.state === 'published')
        return void line(`Federated baseline hazard published (secure sum over ${event.cohort} sites).`);
      if (event.state === 'failed')
        return void line(
          'No federated baseline hazard: the cohort was incomplete at its deadline (the model cannot give risks at the horizon).',
        );
      return void line(
        `Federated baseline: ${event.contributed} of ${event.cohort} sites have sent their masked event counts; waiting for the rest.`,
      );
    case 'scored': {
      const tiers = Object.entries(event.byTier)
        .map(([t, n]) => `${n} ${t}`)
        .join(', ');
      return void line(`Version ${event.versionId}: scored ${event.twins} twins (${tiers || 'none'}).`);
    }
    case 'population':
      if (event.status === 'sent')
        return void line(
          `Version ${event.versionId}: population report sent (${event.suppressedCells ?? 0} small cells suppressed).`,
        );
      if (event.status === 'refused')
        return void out.stderr.write(
          `warning: the coordinator refused the population report of ${event.versionId}: ${event.reason ?? ''}\n`,
        );
      if (event.status === 'skipped')
        return void line(`Version ${event.versionId}: no population report (${event.reason ?? 'skipped'}).`);
      return;
    case 'training':
      return void line(`Round ${event.round}: verified version ${event.baseVersionId}, training…`);
    case 'trained':
      return void line(
        `Round ${event.round}: trained on ${event.numExamples} examples, ${event.steps} steps, mean loss ${fmt(event.loss, 4)} (${(event.durationMs / 1000).toFixed(1)} s).`,
      );
    case 'uploaded':
      return void line(
        `Round ${event.round}: update ${event.status} by the coordinator (digest ${event.digest.slice(0, 12)}…).`,
      );
    case 'skipped':
      return void line(`Round ${event.round}: skipped (${event.reason})${event.message ? `: ${event.message}` : ''}.`);
    case 'model-rejected':
      return void out.stderr.write(`REFUSED model version ${event.versionId}: ${event.message} [${event.code}]\n`);
    case 'evaluated': {
      return void line(
        `Version ${event.versionId} (round ${event.round}) on ${event.n} local test rows: ${metricsText(event.metrics)}.`,
      );
    }
    case 'cross-site':
      return void line(crossSiteText(event));
    case 'warning':
      return void out.stderr.write(`warning: ${event.message}${event.code ? ` [${event.code}]` : ''}\n`);
    case 'ended':
      return void line(`Federation ${event.federationId} ${event.state}.`);
  }
}

/** One line about this site's part in the cross-site evaluation. */
function crossSiteText(e: Extract<RunnerProgress, { type: 'cross-site' }>): string {
  switch (e.step) {
    case 'sealed':
      return `Cross-site evaluation: local-only model trained and sealed to ${e.count ?? 0} sites (the coordinator relays only ciphertext).`;
    case 'refused':
      return 'Cross-site evaluation: refused by this site’s policy (crossSiteEvaluation.allowed: false).';
    case 'reported':
      return `Cross-site evaluation: ${e.count ?? 0} models evaluated on ${e.n ?? 0} local test rows; metrics sent, received models deleted.`;
    case 'withheld':
      return 'Cross-site evaluation: fewer test rows than this site’s k: column withheld, received models deleted.';
    case 'not-asked':
      return 'Cross-site evaluation: this site is not taking part.';
  }
}
