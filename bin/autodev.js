#!/usr/bin/env node
// The esbuild bundle of src/cli (scripts/bundle.js, made by `npm run build`): a few chunks load
// faster than the per-file tsc output in dist/cli, which stays for tests and benches.
// With --debug the stack traces it prints name src/ files and lines (the bundle's source maps).
if (process.argv.includes('--debug') || process.env.AUTODEV_DEBUG === '1') process.setSourceMapsEnabled(true);
const { main } = await import('../dist/bundle/index.js');

process.exitCode = await main(process.argv);
