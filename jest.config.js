/** One jest run over every workspace. Unit tests sit beside the code; cross-package tests live in tests/. */
const map = {
  '^@twinfed/(shared|models|coordinator|site-client)$': '<rootDir>/$1/src/index.ts',
  '^@twinfed/(shared|models|coordinator|site-client)/(.*)$': '<rootDir>/$1/src/$2',
};
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/shared/src', '<rootDir>/models/src', '<rootDir>/coordinator/src', '<rootDir>/site-client/src', '<rootDir>/tests/src'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }] },
  moduleNameMapper: map,
  testTimeout: 60000,
  maxWorkers: 2,
};
