/**
 * What a product package's build output may contain: only compiled product code. A file in `<package>/dist` fails
 * the check when it is test or bench code by its path (a `__tests__` dir, a `*.test.*` file, a bench module), when it
 * requires a module that is neither a Node built-in nor one of the package's runtime `dependencies` (so
 * `@jest/globals`, `fast-check` and `tweetnacl`, which are test or bench references only, fail), or when its source
 * is gone (stale output of a moved or deleted file, which `tsc -b` never removes).
 */
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

/** The workspaces whose `dist` is shipped (the `tests` workspace holds the tests, demos and benchmarks). */
export const PRODUCT_PACKAGES = ['shared', 'sqlite-kit', 'models', 'coordinator', 'site-client'] as const;

/** One offending file in a package's `dist`. */
interface DistProblem {
  /** Relative to the package directory, e.g. `dist/store/contract.js`. */
  readonly file: string;
  readonly reason: string;
}

/** A module path without extension (`store/__tests__/contract`, `a.test`, `crypto/secagg-bench`, `bench/x`). */
const TEST_OR_BENCH = /(^|\/)__tests__(\/|$)|\.test$|(^|\/)([^/]*-)?bench(-[^/]*)?$|(^|\/)bench\//;
const REQUIRE = /\brequire\(\s*["']([^"']+)["']\s*\)/g;
const OUTPUT = /\.(d\.ts|js)(\.map)?$/;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`, `name/sub` → `name`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!);
}

/** Every problem in `<packageDir>/dist` (empty when the output is product code only). `dist` must exist. */
export function distProblems(packageDir: string): DistProblem[] {
  const dist = path.join(packageDir, 'dist');
  if (!fs.existsSync(dist)) return [{ file: 'dist', reason: 'missing: run `npm run build` first' }];
  const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const allowed = new Set(Object.keys(manifest.dependencies ?? {}));
  const problems: DistProblem[] = [];
  const reported = new Set<string>(); // one line per source for its .js, .d.ts and maps
  for (const abs of walk(dist).sort()) {
    const rel = path.relative(dist, abs).split(path.sep).join('/');
    if (!OUTPUT.test(rel)) continue;
    const stem = rel.replace(OUTPUT, '');
    const file = `dist/${rel}`;
    if (TEST_OR_BENCH.test(stem) || !fs.existsSync(path.join(packageDir, 'src', `${stem}.ts`))) {
      if (reported.has(stem)) continue;
      reported.add(stem);
      const reason = TEST_OR_BENCH.test(stem)
        ? 'test or bench code in the build output'
        : `stale output: src/${stem}.ts does not exist (delete ${path.basename(packageDir)}/dist and run \`npm run build\`)`;
      problems.push({ file: `dist/${stem}.*`, reason });
      continue;
    }
    if (!rel.endsWith('.js')) continue;
    for (const m of fs.readFileSync(abs, 'utf8').matchAll(REQUIRE)) {
      const specifier = m[1]!;
      if (specifier.startsWith('.')) {
        if (TEST_OR_BENCH.test(specifier.replace(/\.js$/, '')))
          problems.push({ file, reason: `requires test or bench code '${specifier}'` });
      } else if (!isBuiltin(specifier) && !allowed.has(packageOf(specifier))) {
        problems.push({
          file,
          reason: `requires '${specifier}', which is not among the package's runtime dependencies`,
        });
      }
    }
  }
  return problems;
}
