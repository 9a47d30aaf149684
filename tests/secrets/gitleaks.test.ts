import { afterEach, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitleaksArgv, parseGitleaksReport, parseGitleaksVersion } from '../../src/secrets/gitleaks.js';
import { scanPatch } from '../../src/secrets/scan.js';
import { GITHUB_CLASSIC, PLANTED } from './fake-tokens.js';
import { ProcessExec } from './process-exec.js';
import { TempRepo } from './temp-repo.js';

const cleanups: string[] = [];
let repo: TempRepo | null = null;
afterEach(() => {
  repo?.cleanup();
  repo = null;
  for (const d of cleanups.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A stand-in `gitleaks` executable: answers `version`, and for a scan greps the staged files for
 * classic GitHub tokens and writes a gitleaks-shaped JSON report where --report-path says. It
 * records its argv, cwd, environment and the staged tree so the test can check what it was given.
 */
function fakeGitleaks(version: string, options: { fail?: string } = {}): { bin: string; log: string } {
  const root = mkdtempSync(join(tmpdir(), 'autodev-fake-gitleaks-'));
  cleanups.push(root);
  const log = join(root, 'log');
  mkdirSync(log);
  const bin = join(root, 'gitleaks');
  const fail = options.fail ? `echo "${options.fail}" >&2; exit 2` : '';
  writeFileSync(
    bin,
    `#!/bin/bash
if [ "$1" = version ]; then echo "${version}"; exit 0; fi
printf '%s\\n' "$@" > "${log}/argv"
pwd > "${log}/cwd"
env | sort > "${log}/env"
cp -r . "${log}/staged"
${fail}
report=""
while [ $# -gt 0 ]; do
  if [ "$1" = --report-path ]; then report="$2"; fi
  shift
done
first=1
echo "[" > "$report"
while IFS=: read -r file line match; do
  [ $first = 1 ] || echo "," >> "$report"
  first=0
  cat >> "$report" <<JSON
 {"RuleID": "github-pat", "Description": "Uncovered a GitHub Personal Access Token, potentially leading to unauthorized repository access and sensitive content exposure.",
  "StartLine": $line, "EndLine": $line, "StartColumn": 1, "EndColumn": 40, "Match": "REDACTED", "Secret": "REDACTED",
  "File": "$file", "SymlinkFile": "", "Commit": "", "Entropy": 4.8, "Author": "", "Email": "", "Date": "", "Message": "",
  "Tags": [], "Fingerprint": "$file:github-pat:$line"}
JSON
done < <(grep -rnoE 'gh[p]_[A-Za-z0-9]{36}' . | sort)
echo "]" >> "$report"
exit 0
`,
  );
  chmodSync(bin, 0o755);
  return { bin, log };
}

const ghLine = (s = GITHUB_CLASSIC): string => `const token = "${s}";`;

describe('gitleaks runner', () => {
  it('runs `gitleaks dir` on the changed files of the workspace and keeps findings on added lines only', async () => {
    const { bin, log } = fakeGitleaks('v8.24.3');
    repo = new TempRepo({ 'src/old.ts': `${ghLine()}\nexport {};\n` });
    repo.write({ 'src/old.ts': `${ghLine()}\nexport {};\n${ghLine()}\n` });
    const exec = new ProcessExec();
    const result = await scanPatch(repo.diff(), { exec, gitleaksPath: bin, dir: repo.dir });

    expect(result).toEqual({
      engine: 'gitleaks',
      findings: [
        {
          rule: 'github-pat',
          description: expect.stringContaining('GitHub Personal Access Token'),
          file: 'src/old.ts',
          line: 3,
          redacted: '****',
        },
      ],
      warnings: [],
    });
    const argv = readFileSync(join(log, 'argv'), 'utf8').trim().split('\n');
    expect(argv.slice(0, 4)).toEqual(['dir', '.', '--report-format', 'json']);
    expect(argv).toEqual(expect.arrayContaining(['--redact', '--no-banner', '--report-path']));
    expect(argv[argv.indexOf('--exit-code') + 1]).toBe('0');
    // The whole changed file was staged (context for multi-line rules); the temp dir is gone afterwards.
    expect(readFileSync(join(log, 'staged', 'src/old.ts'), 'utf8')).toBe(`${ghLine()}\nexport {};\n${ghLine()}\n`);
    const cwd = readFileSync(join(log, 'cwd'), 'utf8').trim();
    expect(existsSync(cwd)).toBe(false);
    // Only PATH and HOME (plus what bash itself sets): no token or GITLEAKS_CONFIG leaks in.
    const envNames = readFileSync(join(log, 'env'), 'utf8')
      .split('\n')
      .map((l) => l.split('=')[0])
      .filter(Boolean);
    expect(envNames.filter((n) => !['PATH', 'HOME', 'PWD', 'SHLVL', '_', 'OLDPWD'].includes(n))).toEqual([]);
  });

  it('uses `detect --no-git` before 8.19 and, without a workspace, stages only the added lines', async () => {
    const { bin, log } = fakeGitleaks('8.18.4');
    const diff = [
      'diff --git a/app.py b/app.py',
      '--- a/app.py',
      '+++ b/app.py',
      '@@ -1,2 +1,3 @@',
      ' import os',
      `+TOKEN = "${GITHUB_CLASSIC}"`,
      ' print(os.name)',
      '',
    ].join('\n');
    const result = await scanPatch(diff, { exec: new ProcessExec(), gitleaksPath: bin });
    expect(result.engine).toBe('gitleaks');
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'github-pat', file: 'app.py', line: 2 })]);
    const argv = readFileSync(join(log, 'argv'), 'utf8').trim().split('\n');
    expect(argv.slice(0, 4)).toEqual(['detect', '--no-git', '--source', '.']);
    expect(readFileSync(join(log, 'staged', 'app.py'), 'utf8')).toBe(`\nTOKEN = "${GITHUB_CLASSIC}"\n`);
  });

  it('never stages a gitleaks config the patch adds, so a patch cannot allowlist itself', async () => {
    const { bin, log } = fakeGitleaks('8.24.0');
    repo = new TempRepo();
    repo.write({ '.gitleaks.toml': '[allowlist]\npaths = [".*"]\n', 'a.ts': `${ghLine()}\n` });
    const result = await scanPatch(repo.diff(), { exec: new ProcessExec(), gitleaksPath: bin, dir: repo.dir });
    expect(existsSync(join(log, 'staged', '.gitleaks.toml'))).toBe(false);
    expect(result.findings.map((f) => f.file)).toEqual(['a.ts']);
  });

  it('falls back to the built-in rules, with a warning and no secret in it, when gitleaks fails', async () => {
    const { bin } = fakeGitleaks('8.24.0', { fail: `fatal: bad config near ${GITHUB_CLASSIC}` });
    repo = new TempRepo();
    repo.write({ 'a.ts': `${ghLine()}\n` });
    const result = await scanPatch(repo.diff(), { exec: new ProcessExec(), gitleaksPath: bin, dir: repo.dir });
    expect(result.engine).toBe('builtin');
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'github-token', file: 'a.ts', line: 1, redacted: 'ghp_****' })]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/^gitleaks exited with 2: fatal: bad config near .*; used the built-in rules instead$/);
    // The failure text is cut and the raw token never reaches the warning in full.
    expect(JSON.stringify(result).includes(GITHUB_CLASSIC)).toBe(false);
  });

  it('uses the built-in rules when gitleaks is not on PATH, and when the binary cannot be started', async () => {
    repo = new TempRepo();
    repo.write({ 'a.ts': `${ghLine()}\n` });
    const diff = repo.diff();
    const notOnPath = await scanPatch(diff, { exec: new ProcessExec('/nonexistent-dir') });
    expect(notOnPath).toEqual({ engine: 'builtin', findings: [expect.objectContaining({ rule: 'github-token' })], warnings: [] });
    const missing = await scanPatch(diff, { exec: new ProcessExec(), gitleaksPath: '/nonexistent-dir/gitleaks' });
    expect(missing.engine).toBe('builtin');
    expect(missing.warnings[0]).toMatch(/^gitleaks could not be started/);
  });
});

describe('parseGitleaksReport', () => {
  // As `gitleaks dir --report-format json` writes it without --redact (8.2x), trimmed to two findings.
  const aws = PLANTED.find((t) => t.rule === 'aws-access-key-id')!.secret;
  const sample = JSON.stringify([
    {
      RuleID: 'aws-access-token',
      Description:
        'Identified a pattern that may indicate AWS credentials, risking unauthorized cloud resource access and data breaches on AWS platforms.',
      StartLine: 12,
      EndLine: 12,
      StartColumn: 19,
      EndColumn: 38,
      Match: aws,
      Secret: aws,
      File: '/tmp/autodev-gitleaks-x/src/deploy/settings.ini',
      SymlinkFile: '',
      Commit: '',
      Entropy: 3.6841838,
      Author: '',
      Email: '',
      Date: '',
      Message: '',
      Tags: [],
      Fingerprint: `/tmp/autodev-gitleaks-x/src/deploy/settings.ini:aws-access-token:12`,
    },
    {
      RuleID: 'github-pat',
      Description:
        'Uncovered a GitHub Personal Access Token, potentially leading to unauthorized repository access and sensitive content exposure.',
      StartLine: 3,
      EndLine: 3,
      StartColumn: 16,
      EndColumn: 55,
      Match: `token = "${GITHUB_CLASSIC}"`,
      Secret: GITHUB_CLASSIC,
      File: 'src/main.rs',
      SymlinkFile: '',
      Commit: '',
      Entropy: 5.1,
      Author: '',
      Email: '',
      Date: '',
      Message: '',
      Tags: [],
      Fingerprint: 'src/main.rs:github-pat:3',
    },
  ]);

  it('maps each finding to rule, description, relative file, line and a prefix-only redaction', () => {
    const findings = parseGitleaksReport(sample, { root: '/tmp/autodev-gitleaks-x/src' });
    expect(findings).toEqual([
      {
        rule: 'aws-access-token',
        description: expect.stringMatching(/^Identified a pattern/),
        file: 'deploy/settings.ini',
        line: 12,
        redacted: 'AKIA****',
      },
      { rule: 'github-pat', description: expect.stringMatching(/^Uncovered/), file: 'src/main.rs', line: 3, redacted: 'ghp_****' },
    ]);
    expect(JSON.stringify(findings).includes(aws)).toBe(false);
    expect(JSON.stringify(findings).includes(GITHUB_CLASSIC)).toBe(false);
  });

  it('accepts an empty report, `null`, an already parsed array, and a --redact report', () => {
    expect(parseGitleaksReport('')).toEqual([]);
    expect(parseGitleaksReport('null')).toEqual([]);
    expect(parseGitleaksReport('[]')).toEqual([]);
    expect(parseGitleaksReport([{ RuleID: 'x', File: './a.ts', StartLine: 2, Secret: 'REDACTED' }])).toEqual([
      { rule: 'x', description: 'x', file: 'a.ts', line: 2, redacted: '****' },
    ]);
  });

  it('rejects what is not a report without quoting it', () => {
    expect(() => parseGitleaksReport(`{"oops": "${GITHUB_CLASSIC}"`)).toThrow('gitleaks report is not valid JSON');
    expect(() => parseGitleaksReport('{"a": 1}')).toThrow('not a JSON array');
  });

  it('reads versions and builds the argv for old and new gitleaks', () => {
    expect(parseGitleaksVersion('v8.24.3\n')).toEqual([8, 24, 3]);
    expect(parseGitleaksVersion('dev')).toBeNull();
    expect(gitleaksArgv('gitleaks', [8, 18, 0], '/r.json').slice(1, 5)).toEqual(['detect', '--no-git', '--source', '.']);
    expect(gitleaksArgv('gitleaks', [8, 19, 0], '/r.json').slice(1, 3)).toEqual(['dir', '.']);
    expect(gitleaksArgv('gitleaks', null, '/r.json').slice(1, 3)).toEqual(['dir', '.']);
  });
});
