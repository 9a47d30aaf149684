#!/usr/bin/env node
// The CLI as an esbuild bundle in dist/bundle/, which bin/autodev.js loads: Node reads a few chunk
// files instead of ~180 per-file modules. Code splitting keeps each command's dynamic import a chunk
// of its own, so `--help` and `--plan-only` still load none of what a full run needs.
//
// Bundled too: the packages made of many small ES modules that every command loads: zod (tree-
// shaken: the config imports it as a namespace, so its ~50 locales drop out), execa and simple-git.
// Importing execa alone costs ~150 ms of CPU from node_modules and ~40 ms bundled. The other
// packages stay external, loaded from node_modules as before: bundling them all made start-up
// slower (cosmiconfig's optional TypeScript loader brings the whole compiler in, and large chunks
// are parsed whole), and a module-resolution hook can still see which of them a command loads
// (tests/cli/lazy-imports.test.ts). Measured (CPU, user+sys, 7 runs, 2 loaded cores): `run
// --plan-only` per-file 1.00 s, zod bundled 0.80 s, this 0.63 s; `context` 0.47 s, 0.35 s, 0.33 s.
// Run by `npm run build` after tsc, whose per-file dist/ stays for benches and tests.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

// Bundled: what every command loads and whose many small files dominate its start-up.
const BUNDLED = new Set(['zod', 'execa', 'simple-git']);
const external = Object.keys(pkg.dependencies).filter((name) => !BUNDLED.has(name));

// Chunk names carry a hash: the last build's chunks would otherwise stay beside the new ones.
rmSync(path.join(root, 'dist', 'bundle'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/index.ts'],
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  jsx: 'automatic',
  // A package's subpaths (zod/v4/core, @octokit/rest's) are external with it.
  external: external.flatMap((name) => [name, `${name}/*`]),
  sourcemap: 'linked',
  // Stack traces (--debug) keep our function names; nothing else is renamed.
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunk-[hash]',
  // The CommonJS modules of bundled packages (cross-spawn under execa) call require: give them one.
  banner: { js: "import { createRequire as __autodevRequire } from 'node:module'; const require = __autodevRequire(import.meta.url);" },
  logLevel: 'warning',
});
