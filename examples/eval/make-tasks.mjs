#!/usr/bin/env node
// Builds the example task set of `autodev eval` into a directory: small repositories of several
// toolchains (as bare git repositories), and tasks.jsonl naming them, with each task's tests and
// gold patch (the known fix, which only the simulated model and --check-gold use).
//
//   node examples/eval/make-tasks.mjs /tmp/autodev-eval-example
//   npx autodev eval /tmp/autodev-eval-example/tasks.jsonl --models sim:perfect,sim:typical
//
// Needs git; the tasks need cargo (Rust) and node (Node) on the machine that runs the eval.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CALC = {
  'Cargo.toml': '[package]\nname = "calc"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
  '.gitignore': '/target\n',
  'src/lib.rs': `//! Small arithmetic helpers.

/// Adds two numbers.
pub fn add(a: i32, b: i32) -> i32 {
    a - b
}

/// Multiplies two numbers.
pub fn mul(a: i32, b: i32) -> i32 {
    a * b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 2), 4);
    }

    #[test]
    fn multiplies() {
        assert_eq!(mul(3, 4), 12);
    }
}
`,
};

const SUMMER = {
  'package.json': `${JSON.stringify({ name: 'summer', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`,
  '.gitignore': 'node_modules/\n',
  'src/sum.js': `export function sum(values) {
  let total = 0;
  for (let i = 1; i < values.length; i += 1) total += values[i];
  return total;
}
`,
  'test/sum.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sum } from '../src/sum.js';

test('sums every value', () => {
  assert.equal(sum([1, 2, 3]), 6);
});

test('sums nothing to zero', () => {
  assert.equal(sum([]), 0);
});
`,
};

/** The tasks: a repository, the files a fix changes (the gold patch) and tests hidden from the model. */
const TASKS = [
  {
    id: 'calc-add',
    repo: 'calc',
    title: 'Fix add: it subtracts instead of adding',
    description: 'The function `add` in src/lib.rs returns a - b. It must return the sum; the test `adds` fails.',
    fail_to_pass: ['lib::tests::adds'],
    pass_to_pass: ['lib::tests::multiplies'],
    fix: { 'src/lib.rs': CALC['src/lib.rs'].replace('    a - b', '    a + b') },
  },
  {
    id: 'calc-saturate',
    repo: 'calc',
    title: 'Make add saturate instead of overflowing',
    description: 'add subtracts, and the sum must saturate at i32::MAX and i32::MIN instead of overflowing.',
    fail_to_pass: ['lib::tests::adds', 'lib::tests::adds_saturating'],
    pass_to_pass: ['lib::tests::multiplies'],
    fix: { 'src/lib.rs': CALC['src/lib.rs'].replace('    a - b', '    a.saturating_add(b)') },
    // Graded with this test; the model never sees it.
    hidden: {
      'src/lib.rs': CALC['src/lib.rs'].replace(
        '        assert_eq!(mul(3, 4), 12);\n    }\n',
        '        assert_eq!(mul(3, 4), 12);\n    }\n\n    #[test]\n    fn adds_saturating() {\n        assert_eq!(add(i32::MAX, 1), i32::MAX);\n    }\n',
      ),
    },
  },
  {
    id: 'summer-first',
    repo: 'summer',
    title: 'Fix sum skipping the first value',
    description: 'sum() starts at index 1, so the first value is lost; the test "sums every value" fails.',
    fail_to_pass: ['sums every value'],
    pass_to_pass: ['sums nothing to zero'],
    fix: { 'src/sum.js': SUMMER['src/sum.js'].replace('let i = 1', 'let i = 0') },
  },
];

const REPOS = { calc: CALC, summer: SUMMER };

function git(cwd, ...args) {
  return execFileSync(
    'git',
    ['-c', 'user.name=autodev example', '-c', 'user.email=example@autodev.invalid', '-c', 'commit.gpgsign=false', ...args],
    {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' },
    },
  );
}

function write(dir, files) {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
}

/** The diff that turns `files` into `changed` (git's own, so it always applies). */
function diff(files, changed) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-example-'));
  try {
    git(dir, 'init', '-q');
    write(dir, files);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'base');
    write(dir, changed);
    return git(dir, 'diff');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const out = path.resolve(process.argv[2] ?? 'autodev-eval-example');
mkdirSync(path.join(out, 'repos'), { recursive: true });
for (const [name, files] of Object.entries(REPOS)) {
  const bare = path.join(out, 'repos', `${name}.git`);
  rmSync(bare, { recursive: true, force: true });
  const work = mkdtempSync(path.join(os.tmpdir(), 'autodev-example-'));
  try {
    git(work, 'init', '-q', '-b', 'main');
    write(work, files);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `${name}: the base of the example tasks`);
    git(out, 'clone', '-q', '--bare', work, bare);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
const lines = TASKS.map((task) => {
  const files = REPOS[task.repo];
  const line = {
    id: task.id,
    repo: path.join(out, 'repos', `${task.repo}.git`),
    base: 'main',
    title: task.title,
    description: task.description,
    fail_to_pass: task.fail_to_pass,
    pass_to_pass: task.pass_to_pass,
    patch: diff(files, task.fix),
    ...(task.hidden ? { test_patch: diff(files, task.hidden), test_patch_mode: 'hidden' } : {}),
  };
  return JSON.stringify(line);
});
writeFileSync(path.join(out, 'tasks.jsonl'), `${lines.join('\n')}\n`);
process.stdout.write(`${path.join(out, 'tasks.jsonl')}\n`);
