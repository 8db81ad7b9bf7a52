/** Every generated document: its path (from the repository root) and its text. */
import { openApiDocument } from '@twinfed/shared';
import { cohortDoc } from './cohort-doc';
import { dataMappingDoc } from './data-mapping-doc';
import { errorsDoc } from './errors-doc';
import { metricsDoc } from './metrics-doc';
import { planDoc } from './plan-doc';
import { sitePolicyDoc } from './site-policy-doc';

/** The command that regenerates the documents. */
export const DOCS_COMMAND = 'npm run docs';

export async function generatedDocs(): Promise<Array<{ file: string; text: string }>> {
  return [
    { file: 'docs/plan.md', text: planDoc() },
    { file: 'docs/data-mapping.md', text: await dataMappingDoc() },
    { file: 'docs/cohort-statistics.md', text: cohortDoc() },
    { file: 'docs/errors.md', text: errorsDoc() },
    { file: 'docs/site-policy.md', text: sitePolicyDoc() },
    { file: 'docs/metrics.md', text: await metricsDoc() },
    { file: 'docs/openapi.json', text: `${JSON.stringify(openApiDocument(), null, 2)}\n` },
  ];
}
