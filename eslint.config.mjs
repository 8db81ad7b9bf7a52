// ESLint 9 flat config. Style (line width, quotes, commas) is prettier's job: eslint-config-prettier comes last and
// switches off every rule that would fight it. TypeScript is linted type-aware against tsconfig.test.json, the one
// program that covers every workspace's src/** including the *.test.ts files the package tsconfigs exclude.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import jest from 'eslint-plugin-jest';
import prettier from 'eslint-config-prettier';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'bench/results/**',
      'data/**',
      '.twinfed/**',
      'trial/**',
    ],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Off: an `async` function without `await` is deliberate here. It implements a Promise-returning interface
      // (stores, transports, strategies) or turns a synchronous throw into a rejection the caller already handles.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.test.ts', '**/__tests__/**/*.ts'],
    plugins: { jest },
    languageOptions: { globals: jest.environments.globals.globals },
    rules: {
      // One name for a test: `test` (2,784 uses against 479 `it` when this was set up).
      'jest/consistent-test-it': ['error', { fn: 'test', withinDescribe: 'test' }],
      // Off in tests only: jest's asymmetric matchers (expect.any, expect.objectContaining, ...) are typed `any`,
      // and tests read parsed JSON bodies; `no-explicit-any` still forbids writing `any` by hand.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node, sourceType: 'commonjs' },
  },
  { files: ['**/*.mjs'], languageOptions: { sourceType: 'module' } },
  {
    files: ['coordinator/src/dashboard/static/**/*.js'],
    // uPlot: the global of /dashboard/uplot.js, loaded by index.html before app.js.
    languageOptions: { globals: { ...globals.browser, uPlot: 'readonly' }, sourceType: 'script' },
  },
  prettier,
);
