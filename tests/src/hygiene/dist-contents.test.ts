/** A product package's `dist` holds product code only: no test support, no bench module, no test-only dependency. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/paths';
import { distProblems, PRODUCT_PACKAGES } from './dist-contents';

function write(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
}

describe('distProblems', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-dist-check-'));
    write(dir, {
      'package.json': JSON.stringify({ name: 'p', dependencies: { zod: '^4', '@scope/lib': '*' } }),
      'src/ok.ts': '',
      'src/crypto/box.ts': '',
      'dist/ok.js':
        'const z = require("zod"); const v = require("zod/v4"); const l = require("@scope/lib/sub"); const f = require("node:fs"); const p = require("path"); const b = require("./crypto/box");',
      'dist/ok.d.ts': 'export {};',
      'dist/crypto/box.js': '"use strict";',
      'dist/.tsbuildinfo': '{}',
    });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('passes compiled product code that requires built-ins and its own dependencies only', () => {
    expect(distProblems(dir)).toEqual([]);
  });

  test('fails a file that requires @jest/globals, fast-check, tweetnacl or a bench or test-support module', () => {
    write(dir, {
      'src/suite.ts': '',
      'dist/suite.js':
        'require("@jest/globals"); require(\'fast-check\'); require( "tweetnacl" ); require("./crypto/bench"); require("../__tests__/harness");',
    });
    expect(distProblems(dir)).toEqual([
      {
        file: 'dist/suite.js',
        reason: "requires '@jest/globals', which is not among the package's runtime dependencies",
      },
      { file: 'dist/suite.js', reason: "requires 'fast-check', which is not among the package's runtime dependencies" },
      { file: 'dist/suite.js', reason: "requires 'tweetnacl', which is not among the package's runtime dependencies" },
      { file: 'dist/suite.js', reason: "requires test or bench code './crypto/bench'" },
      { file: 'dist/suite.js', reason: "requires test or bench code '../__tests__/harness'" },
    ]);
  });

  test('fails test support, test files and bench modules in the output, once per source', () => {
    write(dir, {
      'src/__tests__/harness.ts': '',
      'src/crypto/bench.ts': '',
      'src/crypto/secagg-bench.ts': '',
      'src/a.test.ts': '',
      'dist/__tests__/harness.js': '',
      'dist/__tests__/harness.d.ts': '',
      'dist/__tests__/harness.js.map': '',
      'dist/crypto/bench.js': '',
      'dist/crypto/secagg-bench.js': '',
      'dist/a.test.js': '',
    });
    expect(distProblems(dir).map((p) => p.file)).toEqual([
      'dist/__tests__/harness.*',
      'dist/a.test.*',
      'dist/crypto/bench.*',
      'dist/crypto/secagg-bench.*',
    ]);
    expect(new Set(distProblems(dir).map((p) => p.reason))).toEqual(
      new Set(['test or bench code in the build output']),
    );
  });

  test('fails stale output whose source was moved or deleted, and a missing dist', () => {
    write(dir, { 'dist/store/contract.js': 'require("@jest/globals");', 'dist/store/contract.d.ts': '' });
    expect(distProblems(dir)).toEqual([
      {
        file: 'dist/store/contract.*',
        reason: expect.stringMatching(/^stale output: src\/store\/contract\.ts does not exist/),
      },
    ]);
    fs.rmSync(path.join(dir, 'dist'), { recursive: true });
    expect(distProblems(dir)).toEqual([{ file: 'dist', reason: expect.stringContaining('npm run build') }]);
  });

  test('does not take a name that merely contains "bench" for a bench module', () => {
    write(dir, {
      'src/benchmark-free.ts': '',
      'src/workbench.ts': '',
      'dist/benchmark-free.js': '',
      'dist/workbench.js': '',
    });
    expect(distProblems(dir)).toEqual([]);
  });
});

describe('the product packages as built', () => {
  test.each(PRODUCT_PACKAGES)('%s/dist contains product code only', (pkg) => {
    expect(distProblems(path.join(repoRoot(), pkg))).toEqual([]);
  });
});
