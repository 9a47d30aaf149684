#!/usr/bin/env node
// The esbuild bundle of src/cli (scripts/bundle.js, made by `npm run build`): a few chunks load
// faster than the per-file tsc output in dist/cli, which stays for tests and benches.
import { main } from '../dist/bundle/index.js';

process.exitCode = await main(process.argv);
