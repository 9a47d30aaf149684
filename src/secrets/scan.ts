// The secrets step's entry: gitleaks when it is installed, the built-in rules otherwise, both over
// the lines a patch adds. A finding never carries the secret, only a short prefix.

import { addedLines, type AddedLine } from './added-lines.js';
import { scanAddedLines } from './builtin.js';
import { runGitleaks } from './gitleaks.js';
import type { ScanOptions, ScanResult } from './types.js';

async function resolveGitleaks(options: ScanOptions): Promise<string | null> {
  if (!options.exec || options.useGitleaks === false) return null;
  if (options.gitleaksPath) return options.gitleaksPath;
  if (options.gitleaksPath === null) return null;
  return options.exec.which('gitleaks');
}

/** Scan what a unified diff adds (or already-extracted added lines) for secrets. */
export async function scanPatch(diff: string | AddedLine[], options: ScanOptions = {}): Promise<ScanResult> {
  const lines = typeof diff === 'string' ? addedLines(diff) : diff;
  const warnings: string[] = [];
  const gitleaksPath = await resolveGitleaks(options);
  if (gitleaksPath !== null && options.exec) {
    const outcome = await runGitleaks(lines, {
      exec: options.exec,
      gitleaksPath,
      dir: options.dir,
      signal: options.signal,
      timeoutMs: options.timeoutMs,
    });
    if (outcome.ok) return { engine: 'gitleaks', findings: outcome.findings, warnings };
    // A broken gitleaks must not mean an unscanned patch: fall back, and say why.
    warnings.push(`${outcome.error}; used the built-in rules instead`);
  }
  options.signal?.throwIfAborted();
  return { engine: 'builtin', findings: await scanAddedLines(lines), warnings };
}
