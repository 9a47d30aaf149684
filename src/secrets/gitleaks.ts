// gitleaks, when installed: the changed files are staged into a private temp dir, scanned with
// `gitleaks dir` (8.19+) or `gitleaks detect --no-git` (older), and the JSON report is read back.
// `--redact` keeps the secret out of the report file; we redact again in case a report has it.

import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Exec } from '../ports/types.js';
import { redact, redactFindingText, redactTokenLike } from '../util/redact.js';
import type { AddedLine } from './added-lines.js';
import type { Finding } from './types.js';

export interface GitleaksOptions {
  exec: Exec;
  gitleaksPath: string;
  /** Workspace with the patch applied; without it only the added lines are staged. */
  dir?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export type GitleaksOutcome = { ok: true; findings: Finding[]; version: string | null } | { ok: false; error: string };

/** Files a patch could add to switch the scanner's rules off; never staged for the scan. */
const SCANNER_CONFIG_FILES = new Set(['.gitleaks.toml', '.gitleaksignore', '.gitleaks.yaml']);

interface RawGitleaksFinding {
  RuleID?: unknown;
  Description?: unknown;
  File?: unknown;
  StartLine?: unknown;
  EndLine?: unknown;
  Secret?: unknown;
}

/**
 * The findings of a gitleaks JSON report (`--report-format json`), as our Finding shape. Paths are
 * made relative to `root` when given. The secret is reduced to a short prefix; `Match` and the
 * commit metadata are dropped.
 */
export function parseGitleaksReport(json: string | unknown, options: { root?: string } = {}): Finding[] {
  let data: unknown = json;
  if (typeof json === 'string') {
    const text = json.trim();
    // gitleaks writes an empty file, or `null`, when there is nothing to report in some versions.
    if (text === '' || text === 'null') return [];
    try {
      data = JSON.parse(text);
    } catch {
      // The parse error would quote the text, and the text may hold a secret.
      throw new Error('gitleaks report is not valid JSON');
    }
  }
  if (data === null) return [];
  if (!Array.isArray(data)) throw new Error('gitleaks report is not a JSON array of findings');
  const findings: Finding[] = [];
  for (const item of data as RawGitleaksFinding[]) {
    if (item === null || typeof item !== 'object') continue;
    const rule = typeof item.RuleID === 'string' && item.RuleID !== '' ? item.RuleID : 'gitleaks';
    const rawFile = typeof item.File === 'string' ? item.File : '';
    let file = rawFile.replace(/\\/g, '/');
    if (options.root) {
      const abs = isAbsolute(rawFile) ? rawFile : resolve(options.root, rawFile);
      file = relative(options.root, abs).split(sep).join('/');
    }
    file = file.replace(/^\.\//, '');
    const line = typeof item.StartLine === 'number' && item.StartLine > 0 ? item.StartLine : 1;
    const secret = typeof item.Secret === 'string' ? item.Secret : '';
    const description = typeof item.Description === 'string' && item.Description !== '' ? redact(item.Description) : rule;
    findings.push({
      rule,
      description,
      file,
      line,
      redacted: secret === '' || /^REDACTED?$/.test(secret) ? '****' : redactFindingText(secret),
    });
  }
  return findings;
}

/** `8.24.2` from `gitleaks version` output (`v8.24.2`, `8.18.0`, or a dev build's `dev`). */
export function parseGitleaksVersion(output: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** argv for a directory scan; `dir` replaced `detect --no-git` in 8.19. Unknown versions get `dir`. */
export function gitleaksArgv(gitleaksPath: string, version: [number, number, number] | null, reportPath: string): string[] {
  const legacy = version !== null && (version[0] < 8 || (version[0] === 8 && version[1] < 19));
  const scan = legacy ? ['detect', '--no-git', '--source', '.'] : ['dir', '.'];
  // --exit-code 0: leaks are data; a non-zero exit then means gitleaks itself failed.
  return [gitleaksPath, ...scan, '--report-format', 'json', '--report-path', reportPath, '--redact', '--no-banner', '--exit-code', '0'];
}

function safeRelative(file: string): string | null {
  const norm = file.replace(/\\/g, '/');
  if (norm === '' || isAbsolute(norm) || norm.split('/').includes('..')) return null;
  return norm;
}

/** Only the added lines, at their own line numbers, blank elsewhere: nothing else of the file leaks in. */
function materialize(lines: AddedLine[]): string {
  const max = Math.max(...lines.map((l) => l.line));
  const out = new Array<string>(max).fill('');
  for (const l of lines) out[l.line - 1] = l.text;
  return out.join('\n') + '\n';
}

/** Run gitleaks on the files a patch changes and keep the findings on added lines. */
export async function runGitleaks(lines: AddedLine[], options: GitleaksOptions): Promise<GitleaksOutcome> {
  const byFile = new Map<string, AddedLine[]>();
  for (const l of lines) {
    const rel = safeRelative(l.file);
    if (rel === null || SCANNER_CONFIG_FILES.has(rel.split('/').pop() ?? '')) continue;
    byFile.set(rel, [...(byFile.get(rel) ?? []), l]);
  }
  if (byFile.size === 0) return { ok: true, findings: [], version: null };

  const work = await mkdtemp(join(tmpdir(), 'autodev-gitleaks-'));
  try {
    const src = join(work, 'src');
    await mkdir(src, { recursive: true, mode: 0o700 });
    for (const [file, fileLines] of byFile) {
      let content: string | null = null;
      if (options.dir) content = await readFile(join(options.dir, file), 'utf8').catch(() => null);
      const target = join(src, file);
      await mkdir(dirname(target), { recursive: true, mode: 0o700 });
      await writeFile(target, content ?? materialize(fileLines), { mode: 0o600 });
    }

    // A complete, minimal environment: gitleaks needs no token, and GITLEAKS_CONFIG must not leak in.
    const env = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: work };
    const versionRun = await options.exec.run([options.gitleaksPath, 'version'], {
      env,
      cwd: work,
      timeoutMs: 15_000,
      signal: options.signal,
    });
    if (versionRun.spawnError) return { ok: false, error: `gitleaks could not be started: ${versionRun.spawnError}` };
    const version = parseGitleaksVersion(versionRun.stdout + versionRun.stderr);

    const reportPath = join(work, 'report.json');
    const run = await options.exec.run(gitleaksArgv(options.gitleaksPath, version, reportPath), {
      env,
      cwd: src,
      timeoutMs: options.timeoutMs ?? 120_000,
      signal: options.signal,
      maxOutputBytes: 64 * 1024,
    });
    if (run.spawnError) return { ok: false, error: `gitleaks could not be started: ${run.spawnError}` };
    if (run.timedOut) return { ok: false, error: 'gitleaks timed out' };
    if (run.cancelled) return { ok: false, error: 'gitleaks was cancelled' };
    if (run.exitCode !== 0) {
      const tail = redactTokenLike(run.stderr.trim().split('\n').slice(-1)[0] ?? '').slice(0, 200);
      return { ok: false, error: `gitleaks exited with ${run.exitCode ?? run.signal}${tail ? `: ${tail}` : ''}` };
    }
    const report = await readFile(reportPath, 'utf8').catch(() => null);
    if (report === null) return { ok: false, error: 'gitleaks wrote no report' };
    let all: Finding[];
    try {
      all = parseGitleaksReport(report, { root: src });
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    const addedAt = new Map<string, Set<number>>();
    for (const [file, fileLines] of byFile) addedAt.set(file, new Set(fileLines.map((l) => l.line)));
    // A secret that was already in the file before the patch is not this change's doing.
    const findings = all.filter((f) => addedAt.get(f.file)?.has(f.line) ?? false);
    return { ok: true, findings, version: version ? version.join('.') : null };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
