// Cross-task poisoning: the cargo caches are shared by the tasks of one repository, and code the
// model wrote must never write into them. A change whose build.rs plants a file into
// $CARGO_TARGET_DIR and $CARGO_HOME is run for real; afterwards the shared caches hold no such file,
// and a second task on the same repository (which builds on the first's warm caches) does not see it.
import { describe, expect, it } from '@jest/globals';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { CALC_FILES } from '../support/calc-crate.js';
import { e2eSuite } from '../e2e/harness.js';
import { replyFor, type Tree } from './fixtures.js';
import { RUN_TIMEOUT, explain, realRun, step } from './helpers.js';

const MARKER = 'autodev-poison';

// The calc crate with a build script, and a test that fails when either cache holds the marker.
const BASE: Tree = {
  ...CALC_FILES,
  'build.rs': 'fn main() {\n    println!("cargo:rerun-if-changed=build.rs");\n}\n',
  'src/lib.rs': CALC_FILES['src/lib.rs'].replace(
    '    #[test]\n    fn adds() {',
    `    #[test]
    fn no_planted_file() {
        for var in ["CARGO_TARGET_DIR", "CARGO_HOME"] {
            let dir = std::env::var(var).unwrap();
            assert!(!std::path::Path::new(&dir).join("${MARKER}").exists(), "{var} holds a planted file");
        }
    }

    #[test]
    fn adds() {`,
  ),
};

// The fix, plus a build script that plants the marker in both caches (ignoring where it may not).
const POISONING: Tree = {
  'src/lib.rs': BASE['src/lib.rs'].replace('    a - b\n', '    a + b\n'),
  'build.rs': `use std::{env, fs, path::Path};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in ["CARGO_TARGET_DIR", "CARGO_HOME"] {
        if let Ok(dir) = env::var(var) {
            let _ = fs::write(Path::new(&dir).join("${MARKER}"), "planted by a build script\\n");
        }
    }
}
`,
};

const { cache } = e2eSuite();

/** Every file named `name` under `dir`, at any depth. */
async function findFiles(dir: string, name: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.name === name).map((entry) => path.join(entry.parentPath, entry.name));
}

describe('caches shared by the tasks of one repository', () => {
  it(
    'a build.rs of the change writes into no shared cache, and the next task builds warm without its file',
    async () => {
      const poison = await replyFor('Fix add', BASE, POISONING);
      // The repair rounds get the same reply: the planted file makes the change's own run fail.
      const first = await realRun({
        files: BASE,
        task: { title: 'Fix add', description: 'add subtracts; the test `adds` fails.' },
        replies: [poison, poison, poison],
        cache,
        forgeRepo: 'acme/poison',
        // The planted file fails the build that planted it; a re-run of the same change (built
        // already) may not plant it again and would be judged flaky. This test is about the caches.
        env: { AUTODEV_VERIFY_FLAKY_RERUNS: '0' },
      });
      // The build script ran and planted the file where the change builds: its own test saw it...
      const firstTest = step(first.json, 'test', { mode: 'change' });
      expect(firstTest.length).toBeGreaterThan(0);
      expect(firstTest[0].summary).toMatch(/test\(s\) fail that passed on the base: lib::tests::no_planted_file/);
      // ...but that was the task's own copy: the shared target dir and cargo home hold no such file.
      const shared = path.join(cache, 'autodev');
      expect(await findFiles(path.join(shared, 'target'), MARKER)).toEqual([]);
      expect(await findFiles(path.join(shared, 'cargo-home'), MARKER)).toEqual([]);
      // The shared target dir was written by the base's build, so the next task starts warm.
      const [targetDir] = await readdir(path.join(shared, 'target'));
      expect((await readdir(path.join(shared, 'target', targetDir, 'debug'))).length).toBeGreaterThan(0);

      const second = await realRun({
        files: BASE,
        bare: first.bare,
        task: { title: 'Make add return the sum', description: 'add subtracts; the test `adds` fails.' },
        replies: [await replyFor('Fix add', BASE, { 'src/lib.rs': POISONING['src/lib.rs'] })],
        cache,
        forgeRepo: 'acme/poison',
      });
      expect({ code: second.outcome.code, status: second.json.status, why: second.outcome.code ? explain(second) : '' }).toEqual({
        code: 0,
        status: 'pr_created',
        why: '',
      });
      expect(step(second.json, 'test', { mode: 'baseline' })[0].summary).toMatch(/reused from an earlier task/);
      expect(step(second.json, 'test', { mode: 'change' }).at(-1)?.summary).toMatch(
        /fixes 1 test\(s\) failing on the base: lib::tests::adds/,
      );
      expect(await findFiles(path.join(shared, 'target'), MARKER)).toEqual([]);
    },
    RUN_TIMEOUT * 2,
  );
});
