/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  moduleNameMapper: {
    // Sub-path entries (`@mvvm/wasi/node`) map to that file of the package's sources.
    '^@mvvm/([^/]+)/(.+)$': '<rootDir>/packages/$1/src/$2',
    '^@mvvm/([^/]+)$': '<rootDir>/packages/$1/src',
  },
  testMatch: ['<rootDir>/packages/*/test/**/*.test.ts', '<rootDir>/examples/**/*.test.ts'],
  testTimeout: 600000,
};
