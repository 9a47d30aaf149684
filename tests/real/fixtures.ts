// Fixture projects with the problems real repositories have: a git dependency (served from a local
// bare repository over file://), a Cargo workspace, lint debt and a failing doc test on the base, a
// dependency that cannot be fetched, and a Node project. Patches are computed by git from the
// before/after trees, so a scripted reply always applies to its fixture.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { reply } from '../support/calc-crate.js';
import { git, makeRepo } from '../support/fixture-repo.js';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server.js';

export type Tree = Record<string, string>;

/** A unified diff turning `before` into `after` (only the files `after` names change). */
export async function makePatch(before: Tree, after: Tree): Promise<string> {
  const dir = await makeRepo(before);
  for (const [file, text] of Object.entries(after)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  await git(dir, ['add', '-A']);
  return `${await git(dir, ['diff', '--cached', '--no-color', '--no-renames'])}\n`;
}

/** A scripted model reply whose patch turns `before` into `after`. */
export async function replyFor(subject: string, before: Tree, after: Tree, rationale?: string): Promise<string> {
  return reply(subject, await makePatch(before, after), rationale);
}

// ---------- a crate with a git dependency ----------

// The sandbox shows none of the host's own directories (/tmp, /var/tmp are private inside), so a
// git dependency is served over HTTP on 127.0.0.1, which the `deps` step reaches with its network,
// as a real one would be on https.
const VISIBLE_ROOT = '/var/tmp';
let served: { root: string; server: GitHttpServer; count: number } | null = null;

/** A bare repository holding `files`, served over HTTP; returns its URL. `removeVisibleRepos()` stops serving it. */
export async function makeVisibleBareRepo(files: Tree): Promise<string> {
  if (!served) {
    const root = await mkdtemp(path.join(os.tmpdir(), 'autodev-dep-'));
    served = { root, server: await startGitHttpServer(root), count: 0 };
  }
  const source = await makeRepo(files);
  const name = `repo-${++served.count}.git`;
  await git(served.root, ['clone', '-q', '--bare', source, path.join(served.root, name)]);
  return `${served.server.url}/${name}`;
}

export async function removeVisibleRepos(): Promise<void> {
  const current = served;
  served = null;
  if (!current) return;
  await current.server.close();
  await rm(current.root, { recursive: true, force: true });
}

/** The dependency: a tiny crate committed in a bare repository; returns its URL. */
export async function makeShoutDependency(): Promise<string> {
  const bare = await makeVisibleBareRepo({
    'Cargo.toml': '[package]\nname = "shout"\nversion = "0.1.0"\nedition = "2021"\n',
    'src/lib.rs':
      '/// Upper-cases and adds an exclamation mark.\npub fn shout(text: &str) -> String {\n    format!("{}!", text.to_uppercase())\n}\n',
  });
  return bare;
}

const GREET_BUGGY = `//! Greetings, loudly.

/// Greets someone by name.
pub fn greet(name: &str) -> String {
    shout::shout(&format!("helo {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets() {
        assert_eq!(greet("bob"), "HELLO BOB!");
    }
}
`;

export function greetCrate(depUrl: string): Tree {
  return {
    'Cargo.toml': `[package]\nname = "greet"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nshout = { git = "${depUrl}" }\n`,
    '.gitignore': '/target\n',
    'src/lib.rs': GREET_BUGGY,
  };
}

export const GREET_TASK = {
  title: 'Fix the greeting typo',
  description: 'greet() says "helo"; it must say "hello". The test `greets` fails.',
};

export function greetFix(): Tree {
  return { 'src/lib.rs': GREET_BUGGY.replace('helo {name}', 'hello {name}') };
}

// ---------- a Cargo workspace with two members ----------

const ALPHA_BUGGY = `/// Adds two numbers.
pub fn add(a: i32, b: i32) -> i32 {
    a - b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 3), 5);
    }
}
`;

/** Two independent members: alpha has the bug; beta has a test that already fails on the base. */
export const WORKSPACE_FILES: Tree = {
  'Cargo.toml': '[workspace]\nmembers = ["crates/*"]\nresolver = "2"\n',
  '.gitignore': '/target\n',
  'crates/alpha/Cargo.toml': '[package]\nname = "alpha"\nversion = "0.1.0"\nedition = "2021"\n',
  'crates/alpha/src/lib.rs': ALPHA_BUGGY,
  'crates/beta/Cargo.toml': '[package]\nname = "beta"\nversion = "0.1.0"\nedition = "2021"\n',
  'crates/beta/src/lib.rs': `/// Doubles a number.
pub fn double(a: i32) -> i32 {
    a * 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles() {
        assert_eq!(double(2), 4);
    }

    #[test]
    fn known_broken() {
        assert_eq!(double(2), 5, "an old failure in beta");
    }
}
`,
};

export const WORKSPACE_TASK = {
  title: 'Fix alpha add',
  description: 'alpha::add subtracts; it must add. The test `adds` in crates/alpha fails.',
};

export const WORKSPACE_FIX: Tree = { 'crates/alpha/src/lib.rs': ALPHA_BUGGY.replace('    a - b\n', '    a + b\n') };

// ---------- lint debt and a failing doc test on the base ----------

const DEBT_BUGGY = `//! Arithmetic with some debt.

/// Adds two numbers.
pub fn add(a: i32, b: i32) -> i32 {
    a - b
}

/// Subtracts, written the long way (a lint warning the base already has).
pub fn sub(a: i32, b: i32) -> i32 {
    return a - b;
}

/// Halves a number.
///
/// \`\`\`
/// assert_eq!(debt::half(5), 3);
/// \`\`\`
pub fn half(a: i32) -> i32 {
    a / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 3), 5);
    }

    #[test]
    fn subs() {
        assert_eq!(sub(3, 2), 1);
    }
}
`;

export const DEBT_FILES: Tree = {
  'Cargo.toml': '[package]\nname = "debt"\nversion = "0.1.0"\nedition = "2021"\n',
  '.gitignore': '/target\n',
  'src/lib.rs': DEBT_BUGGY,
};

export const DEBT_TASK = {
  title: 'Fix add in debt',
  description: 'add() subtracts; it must add. The test `adds` fails.',
};

/** Fixes the bug but adds a clippy warning of its own (a second needless_return). */
export const DEBT_FIX_WITH_WARNING: Tree = {
  'src/lib.rs': DEBT_BUGGY.replace('    a - b\n}\n\n/// Subtracts', '    return a + b;\n}\n\n/// Subtracts'),
};
export const DEBT_FIX_CLEAN: Tree = { 'src/lib.rs': DEBT_BUGGY.replace('    a - b\n}\n\n/// Subtracts', '    a + b\n}\n\n/// Subtracts') };

// ---------- a dependency that cannot be fetched ----------

export async function unfetchableCrate(): Promise<Tree> {
  const missing = path.join(VISIBLE_ROOT, `autodev-missing-${process.pid}-${Date.now()}`, 'nowhere.git');
  return {
    'Cargo.toml': `[package]\nname = "lonely"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\nghostdep = { git = "file://${missing}" }\n`,
    '.gitignore': '/target\n',
    'src/lib.rs': 'pub fn one() -> i32 {\n    1\n}\n',
  };
}

// ---------- a Node project ----------

const SUM_BUGGY = `export function sum(values) {
  let total = 0;
  for (let i = 1; i < values.length; i += 1) total += values[i];
  return total;
}
`;

export const NODE_FILES: Tree = {
  'package.json': `${JSON.stringify({ name: 'summer', version: '1.0.0', private: true, type: 'module', scripts: { test: 'node --test' } }, null, 2)}\n`,
  '.gitignore': 'node_modules/\n',
  'src/sum.js': SUM_BUGGY,
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

export const NODE_TASK = {
  title: 'Fix sum skipping the first value',
  description: 'sum() starts at index 1, so the first value is lost; the test "sums every value" fails.',
};

export const NODE_FIX: Tree = { 'src/sum.js': SUM_BUGGY.replace('let i = 1', 'let i = 0') };
