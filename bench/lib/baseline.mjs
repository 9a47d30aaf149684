// "Today's behaviour" for a bench that prints old and new side by side in one run: the modules of
// src/ as they were at a git revision, bundled with esbuild into a temp dir (removed on every exit
// path, lib/temp.mjs) and imported beside this checkout's dist/. The revision is BENCH_BASELINE_REF,
// by default the commit this work started from; when it is not in the repository (a shallow clone),
// the bench prints only the current figures.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from './temp.mjs';

// The last commit before the patch/context work of issue 16 item 9.
export const DEFAULT_BASELINE_REF = '66ef7fb';

/**
 * Imports `entries` (paths under src/, without extension, e.g. 'patch/apply-dir') as they were at
 * `ref`; returns { ref, modules: { [entry]: module } } or null when the revision is not available.
 */
export async function loadBaseline(root, entries, ref = process.env.BENCH_BASELINE_REF || DEFAULT_BASELINE_REF) {
  if (ref === 'none') return null;
  const resolved = spawnSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' });
  if (resolved.status !== 0) return null;
  const sha = resolved.stdout.trim();
  const dir = tempDir('bench-baseline-');
  const tar = execFileSync('git', ['archive', sha, 'src'], { cwd: root, maxBuffer: 256 * 1024 * 1024 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  // Lazy requires (src/util/libs.ts) resolve from the bundle's folder: give it this checkout's packages.
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  const out = path.join(dir, 'out');
  mkdirSync(out);
  const { build } = await import('esbuild');
  await build({
    entryPoints: Object.fromEntries(entries.map((e) => [e.replace(/\//g, '_'), path.join(dir, 'src', `${e}.ts`)])),
    outdir: out,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  const modules = {};
  for (const e of entries) modules[e] = await import(pathToFileURL(path.join(out, `${e.replace(/\//g, '_')}.mjs`)).href);
  return { ref: sha.slice(0, 8), modules };
}
