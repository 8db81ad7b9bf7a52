/** `npm run docs`: writes docs/plan.md, docs/data-mapping.md, docs/cohort-statistics.md, docs/errors.md, docs/site-policy.md, docs/metrics.md and docs/openapi.json from the schemas, the error table, the metrics registry and the API contract; `--check` only compares (exit 1 when stale). */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/paths';
import { DOCS_COMMAND, generatedDocs } from './generate';

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const { file, text } of await generatedDocs()) {
    const target = path.join(repoRoot(), file);
    const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (current === text) continue;
    if (check) {
      stale += 1;
      process.stderr.write(`${file} is out of date: run \`${DOCS_COMMAND}\`\n`);
    } else {
      fs.writeFileSync(target, text);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
  return stale > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
