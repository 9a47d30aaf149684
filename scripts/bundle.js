#!/usr/bin/env node
// The CLI as an esbuild bundle in dist/bundle/, which bin/autodev.js loads: Node reads a few chunk
// files instead of ~180 per-file modules, and zod (~100 ESM files, the largest start-up cost left)
// comes inside the bundle, tree-shaken (the config imports it as a namespace, so its ~50 locales
// drop out). Code splitting keeps each command's dynamic import a chunk of its own, so `--help` and
// `--plan-only` still load none of what a full run needs.
//
// The other packages stay external, loaded from node_modules as before. Measured on `autodev
// context` (CPU, user+sys, 7 runs each, 2 loaded cores): per-file tsc output 0.41 s, this bundle
// 0.33 s, every package bundled 0.55 s (large chunks parsed whole, with code the command never
// runs). External packages also let a module-resolution hook see which ones a command loads
// (tests/cli/lazy-imports.test.ts). Run by `npm run build` after tsc, whose per-file dist/ stays
// for the benches and tests that import single modules.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

// Bundled: what every command loads and whose many small files dominate its start-up.
const BUNDLED = new Set(['zod']);
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
  logLevel: 'warning',
});
