/** The committed reference docs are what the schemas generate now, so they cannot drift from the code. */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/paths';
import { DOCS_COMMAND, generatedDocs } from './generate';

describe('generated docs', () => {
  test('docs/plan.md, docs/data-mapping.md and docs/errors.md match the schemas and the error table', async () => {
    const stale: string[] = [];
    for (const { file, text } of await generatedDocs()) {
      const target = path.join(repoRoot(), file);
      const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
      if (current !== text)
        stale.push(`${file} differs from what the schemas generate: run \`${DOCS_COMMAND}\` and commit it`);
    }
    expect(stale).toEqual([]);
  });

  test('the plan reference lists every field and the rules between fields', async () => {
    const plan = (await generatedDocs()).find((d) => d.file === 'docs/plan.md')!.text;
    for (const field of [
      '`data.minExamplesPerSite`',
      '`privacy.dp.maxEpsilon`',
      '`strategy.byzantine`',
      '`data.derive[].windowDays`',
      '`data.population.ageBands`',
      '`model.hidden`',
      '`data.labelRule.horizonDays`',
    ]) {
      expect(plan).toContain(field);
    }
    expect(plan).toContain('`krum` needs `minSites` ≥ 2 × `byzantine` + 3.');
    expect(plan).toMatch(
      /\| `data\.minExamplesPerSite` \| integer \| default `20` \| ≥ 1 and ≤ 1000000000 \| A site with fewer training rows/,
    );
  });

  test('the error reference gives every code its client behaviour, and HTTP codes their status', async () => {
    const errors = (await generatedDocs()).find((d) => d.file === 'docs/errors.md')!.text;
    expect(errors).toContain('| `SITE_REVOKED` | 403 | `fatal-site` | The site has been revoked. |');
    expect(errors).toContain('| `RATE_LIMITED` | 429 | `retry-later` |');
    expect(errors).toMatch(/## Local failures[\s\S]*\| `NETWORK` \| `retry` \|/);
    expect(errors).toContain('| `fatal-federation` |');
  });

  test('the cohort statistics guide documents the query and the policy part, with a worked example the site code computed', async () => {
    const doc = (await generatedDocs()).find((d) => d.file === 'docs/cohort-statistics.md')!.text;
    for (const field of ['`groupBy[].cuts`', '`summaries.pooled`', '`source.derive`', '`cohortQueries.epsilon`'])
      expect(doc).toContain(field);
    expect(doc).toContain('| 0-39 | *suppressed* |');
    expect(doc).toMatch(/\| 40-59 \| 20 \| 20 \| \d/);
  });
});
