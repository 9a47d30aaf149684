// Suspected flaky tests re-run alone, with real cargo: the names the Rust parser gives a full
// `cargo test` run go back through the toolchain's selectTests, and the narrowed run runs exactly
// those tests, in a library and an integration test binary (names that prefix others included).
import { afterAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { createExec } from '../../src/ports/exec.js';
import { rust } from '../../src/toolchains/rust/index.js';
import { cleanup, makeRepo } from '../support/fixture-repo.js';

afterAll(cleanup);

const CRATE = {
  'Cargo.toml': '[package]\nname = "wobble"\nversion = "0.1.0"\nedition = "2021"\n',
  'src/lib.rs': `pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(1, 1), 2);
    }
    #[test]
    fn adds_more() {
        assert_eq!(super::add(2, 2), 4);
    }
    #[test]
    fn subtracts() {
        assert_eq!(super::add(2, -1), 1);
    }
}
`,
  'tests/it.rs': `#[test]
fn sums() {
    assert_eq!(wobble::add(1, 2), 3);
}
#[test]
fn sums_more() {
    assert_eq!(wobble::add(3, 4), 7);
}
`,
};

describe('cargo test narrowed to suspected flaky tests', () => {
  it('runs exactly the named tests, each in its own binary', async () => {
    const dir = await makeRepo(CRATE);
    const exec = createExec();
    const home = process.env.HOME ?? '';
    const env = {
      PATH: `${path.join(home, '.cargo', 'bin')}:${process.env.PATH ?? ''}`,
      HOME: home,
      ...(process.env.CARGO_HOME ? { CARGO_HOME: process.env.CARGO_HOME } : {}),
      ...(process.env.RUSTUP_HOME ? { RUSTUP_HOME: process.env.RUSTUP_HOME } : {}),
    };
    const run = async (argv: string[]) => {
      const result = await exec.run(argv, { cwd: dir, env, timeoutMs: 300_000 });
      return rust.parse('cargo-test', result).tests!;
    };
    const argv = ['cargo', 'test', '--offline', '--no-fail-fast'];
    const full = await run(argv);
    expect(full.passed.sort()).toEqual(
      ['lib::tests::adds', 'lib::tests::adds_more', 'lib::tests::subtracts', 'tests/it.rs::sums', 'tests/it.rs::sums_more'].sort(),
    );

    const suspects = ['lib::tests::adds', 'tests/it.rs::sums'];
    const narrowed = rust.selectTests!(argv, suspects, 'cargo-test');
    expect(narrowed).not.toBeNull();
    const again = await run(narrowed!);
    expect(again.passed.sort()).toEqual(suspects);
    expect(again.failed).toEqual([]);
  }, 300_000);
});
