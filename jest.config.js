/** One jest run over every workspace. Unit tests sit beside the code; cross-package tests live in tests/. */
const map = {
  '^@twinfed/(shared|sqlite-kit|models|coordinator|site-client)$': '<rootDir>/$1/src/index.ts',
  '^@twinfed/(shared|sqlite-kit|models|coordinator|site-client)/(.*)$': '<rootDir>/$1/src/$2',
};
module.exports = {
  testEnvironment: 'node',
  roots: [
    '<rootDir>/shared/src',
    '<rootDir>/sqlite-kit/src',
    '<rootDir>/models/src',
    '<rootDir>/coordinator/src',
    '<rootDir>/site-client/src',
    '<rootDir>/tests/src',
  ],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] },
  moduleNameMapper: map,
  testTimeout: 60000,
  maxWorkers: 2,
  // No suite leaves a handle open; but a worker ends with 0.5–0.8 GiB resident (every test file's module
  // registry, tfjs and its wasm memory stay until the process exits), and tearing that down takes 0.6–1 s on
  // a loaded 2-core machine, over jest's default 500 ms, which printed "A worker process has failed to exit
  // gracefully". A real leak (a ref'd timer, socket or child) still never exits and is still reported.
  workerGracefulExitTimeout: 5000,
};
