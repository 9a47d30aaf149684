// ESM all the way: swc strips types (fast, no type check; `npm run typecheck` does that),
// and jest runs the modules natively under --experimental-vm-modules.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts', '**/*.test.tsx'],
  extensionsToTreatAsEsm: ['.ts', '.tsx'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.tsx?$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript', tsx: true }, target: 'es2022', transform: { react: { runtime: 'automatic' } } },
        module: { type: 'es6' },
      },
    ],
  },
  reporters: ['default', '<rootDir>/tests/support/summary-reporter.js'],
  // Generous: end-to-end tests build real crates, and a loaded 2-core machine can be 4× slower than an idle one.
  testTimeout: 180000,
  maxWorkers: 2,
  testSequencer: '<rootDir>/tests/support/cheap-first-sequencer.js',
};
