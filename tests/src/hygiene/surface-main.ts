/**
 * `npm run surface [-- <repository root>]`: how many names each product package exports from its index (namespace
 * members counted one by one) and how many of them the other workspaces import; the names nobody imports with `--list`.
 */
import { repoRoot } from '../support/paths';
import { PRODUCT_PACKAGES } from './dist-contents';
import { exportedNames, importedNames } from './public-surface';

const args = process.argv.slice(2);
const root = args.find((a) => !a.startsWith('--')) ?? repoRoot();
const exported = exportedNames(root);
const imported = importedNames(root);
process.stdout.write(`| package | exported | imported by another workspace |\n|---|---:|---:|\n`);
for (const pkg of PRODUCT_PACKAGES) {
  const used = exported[pkg].filter((n) => imported[pkg].has(n));
  process.stdout.write(`| @twinfed/${pkg} | ${exported[pkg].length} | ${used.length} |\n`);
  if (args.includes('--list'))
    for (const n of exported[pkg].filter((x) => !imported[pkg].has(x))) process.stdout.write(`  unused: ${n}\n`);
}
