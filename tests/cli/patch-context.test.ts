// `autodev patch apply` and `autodev context` through the built CLI, on real repositories.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cleanup, makeRepo } from '../support/fixture-repo.js';
import { cleanEnv, makeRunDir, requireBuilt, runCli, type RunDir } from '../support/cli.js';
import { hashTree } from '../support/tree.js';

const LIB = `pub fn add(a: i32, b: i32) -> i32 {
    a - b
}

pub fn mul(a: i32, b: i32) -> i32 {
    a * b
}

pub fn neg(a: i32) -> i32 {
    -a
}
`;

// The model's usual mistakes at once: no a/ b/ prefixes, wrong line numbers, drifted indentation.
const SLOPPY = `--- src/lib.rs
+++ src/lib.rs
@@ -40,3 +40,3 @@
 pub fn add(a: i32, b: i32) -> i32 {
-  a - b
+  a + b
 }
`;

const NOWHERE = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,3 @@
 pub fn divide(a: i32, b: i32) -> i32 {
-    a * b
+    a / b
 }
`;

let box: RunDir;
let repo: string;

beforeAll(async () => {
  requireBuilt();
  box = await makeRunDir('clitest-');
  repo = await makeRepo({
    'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n',
    'src/lib.rs': LIB,
    'src/parser.rs': 'pub fn parse_number(text: &str) -> Option<i64> {\n    text.trim().parse().ok()\n}\n',
    'tests/parser.rs': 'use calc::parser::parse_number;\n#[test]\nfn parses() { assert_eq!(parse_number(" 4 "), Some(4)); }\n',
    'README.md': '# calc\n',
  });
});

afterAll(async () => {
  await cleanup();
});

describe('autodev patch apply', () => {
  it('applies a sloppy LLM diff with --json, keeping the file indentation', async () => {
    const patchFile = path.join(box.dir, 'sloppy.diff');
    await writeFile(patchFile, SLOPPY);
    const result = await runCli(['patch', 'apply', '--repo', repo, '--json', patchFile], { cwd: box.cwd, env: cleanEnv(box) });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({ applied: true, files: ['src/lib.rs'], error: null });
    expect(json.hunks).toHaveLength(1);
    expect(json.hunks[0]).toMatchObject({ file: 'src/lib.rs', status: 'applied' });
    expect(['offset', 'whitespace', 'fuzzy']).toContain(json.strategy);
    expect(await readFile(path.join(repo, 'src/lib.rs'), 'utf8')).toBe(LIB.replace('    a - b', '    a + b'));
    await writeFile(path.join(repo, 'src/lib.rs'), LIB);
  });

  it('applies SEARCH/REPLACE blocks too, and refuses an ambiguous one with the tree unchanged', async () => {
    const blocks = 'src/lib.rs\n<<<<<<< SEARCH\n    a - b\n=======\n    a + b\n>>>>>>> REPLACE\n';
    const applied = await runCli(['patch', 'apply', '--repo', repo, '--json', '-'], { cwd: box.cwd, env: cleanEnv(box), input: blocks });
    expect(applied.code).toBe(0);
    expect(await readFile(path.join(repo, 'src/lib.rs'), 'utf8')).toBe(LIB.replace('    a - b', '    a + b'));
    await writeFile(path.join(repo, 'src/lib.rs'), LIB);
    const before = await hashTree(repo);
    const ambiguous = 'src/lib.rs\n<<<<<<< SEARCH\n}\n=======\n} // end\n>>>>>>> REPLACE\n';
    const refused = await runCli(['patch', 'apply', '--repo', repo, '-'], { cwd: box.cwd, env: cleanEnv(box), input: ambiguous });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/SEARCH\/REPLACE block #1 is ambiguous: its text is found 3 times/);
    expect(await hashTree(repo)).toEqual(before);
  });

  it('--check reports without changing anything, reading the patch from stdin', async () => {
    const before = await hashTree(repo);
    const result = await runCli(['patch', 'apply', '--repo', repo, '--check', '-'], { cwd: box.cwd, env: cleanEnv(box), input: SLOPPY });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^would apply/);
    expect(await hashTree(repo)).toEqual(before);
  });

  it('refuses a hunk whose context is nowhere: exit 1, the file and hunk named, the tree unchanged', async () => {
    const before = await hashTree(repo);
    const result = await runCli(['patch', 'apply', '--repo', repo, '-'], { cwd: box.cwd, env: cleanEnv(box), input: NOWHERE });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('src/lib.rs');
    expect(result.stderr).toMatch(/hunk/i);
    expect(await hashTree(repo)).toEqual(before);
  });

  it('refuses paths outside the repository and under .git/', async () => {
    const before = await hashTree(repo);
    for (const target of ['../escape.txt', '.git/config']) {
      const patch = `--- a/${target}\n+++ b/${target}\n@@ -0,0 +1 @@\n+pwned\n`;
      const result = await runCli(['patch', 'apply', '--repo', repo, '--json', '-'], { cwd: box.cwd, env: cleanEnv(box), input: patch });
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout)).toMatchObject({ applied: false });
      expect(JSON.parse(result.stdout).error).toMatch(/refused path/);
    }
    expect(await hashTree(repo)).toEqual(before);
  });

  it('refuses symlinks (exit 1, not 70): one beside a fix, one to a directory outside written through', async () => {
    const before = await hashTree(repo);
    const outside = path.join(box.dir, 'outside');
    await mkdir(outside);
    const fix = SLOPPY.replace(
      '--- src/lib.rs\n+++ src/lib.rs',
      'diff --git a/src/lib.rs b/src/lib.rs\n--- a/src/lib.rs\n+++ b/src/lib.rs',
    );
    const shadow = `diff --git a/shadow b/shadow\nnew file mode 120000\n--- /dev/null\n+++ b/shadow\n@@ -0,0 +1 @@\n+/etc/shadow\n\\ No newline at end of file\n${fix}`;
    const through =
      `diff --git a/out b/out\nnew file mode 120000\n--- /dev/null\n+++ b/out\n@@ -0,0 +1 @@\n+${outside}\n\\ No newline at end of file\n` +
      'diff --git a/out/x.txt b/out/x.txt\nnew file mode 100644\n--- /dev/null\n+++ b/out/x.txt\n@@ -0,0 +1 @@\n+pwned\n';
    for (const [patch, extra] of [
      [shadow, []],
      [through, []],
      [through, ['--allow-symlinks']],
    ] as const) {
      const result = await runCli(['patch', 'apply', '--repo', repo, ...extra, '-'], { cwd: box.cwd, env: cleanEnv(box), input: patch });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^not applied; nothing was changed\.\nrefused symlink "(shadow|out)"/);
      expect(result.stderr).not.toMatch(/internal error/);
    }
    expect(await hashTree(repo)).toEqual(before);
    expect(await readdir(outside)).toEqual([]);
  });

  it('names a missing --repo and an unreadable patch file with exit 2', async () => {
    const noRepo = await runCli(['patch', 'apply', '--repo', path.join(box.dir, 'nope'), '-'], {
      cwd: box.cwd,
      env: cleanEnv(box),
      input: SLOPPY,
    });
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toContain('--repo');
    const noFile = await runCli(['patch', 'apply', '--repo', repo, 'missing.diff'], { cwd: box.cwd, env: cleanEnv(box) });
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('missing.diff');
  });
});

describe('autodev context', () => {
  it('ranks the file that defines the named symbol first, with its test, within the budget', async () => {
    const result = await runCli(
      [
        'context',
        '--repo',
        repo,
        '--title',
        'parse_number accepts garbage',
        '--description',
        'parse_number should reject empty input',
        '--json',
      ],
      { cwd: box.cwd, env: cleanEnv(box) },
    );
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    const paths = json.files.map((f: { path: string }) => f.path);
    expect(paths[0]).toBe('src/parser.rs');
    expect(paths).toContain('tests/parser.rs');
    expect(json.tokens).toBeLessThanOrEqual(8000);
    for (const file of json.files) expect(Object.keys(file).sort()).toEqual(['path', 'ranges', 'score', 'tokens']);
  });

  it('respects a small --budget by cutting files to line ranges, and rejects a bad one', async () => {
    const big = Array.from({ length: 400 }, (_, i) => `pub fn helper_${i}(x: i32) -> i32 {\n    x + ${i}\n}\n`).join('\n');
    const bigRepo = await makeRepo({ 'src/lib.rs': `${big}\npub fn target_fn(x: i32) -> i32 {\n    x * 2\n}\n` });
    const result = await runCli(['context', '--repo', bigRepo, '--title', 'target_fn doubles wrongly', '--budget', '300', '--json'], {
      cwd: box.cwd,
      env: cleanEnv(box),
    });
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.tokens).toBeLessThanOrEqual(300);
    expect(json.files[0].path).toBe('src/lib.rs');
    expect(json.files[0].ranges).not.toBeNull();
    const bad = await runCli(['context', '--repo', bigRepo, '--title', 't', '--budget', 'lots'], { cwd: box.cwd, env: cleanEnv(box) });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--budget');
  });
});
