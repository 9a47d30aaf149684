// Re-running suspected flaky tests: each toolchain's test command narrowed to the tests named, as
// verify asks for it (through the registry and the Toolchain interface), with the names its own
// parser gives. Null means the whole command runs again.
import { describe, expect, it } from '@jest/globals';
import { toolchainById } from '../../src/toolchains/registry.js';

function select(id: string, argv: string[], names: string[], format: string): string[] | null {
  const toolchain = toolchainById(id);
  if (!toolchain?.selectTests) throw new Error(`${id} cannot select tests`);
  return toolchain.selectTests(argv, names, format);
}

describe('cargo test narrowed to named tests', () => {
  const argv = ['cargo', 'test', '--offline', '--no-fail-fast'];

  it("passes each test's path (without the target the parser adds) to libtest, matched exactly", () => {
    expect(select('rust', argv, ['lib::tests::adds', 'tests/it.rs::sums', 'calc/lib::tests::adds'], 'cargo-test')).toEqual([
      ...argv,
      '--',
      '--exact',
      'tests::adds',
      'sums',
    ]);
    // The command's own libtest arguments stay.
    expect(select('rust', [...argv, '--', '--test-threads=1'], ['lib::a'], 'cargo-test')).toEqual([
      ...argv,
      '--',
      '--exact',
      '--test-threads=1',
      'a',
    ]);
  });

  it('runs whole for a doc test, a binary that died as a whole, or another format', () => {
    expect(select('rust', argv, ['lib::tests::adds', 'src/lib.rs - add (line 3)'], 'cargo-test')).toBeNull();
    expect(select('rust', argv, ['src/lib.rs - Calc::add (line 9)'], 'cargo-test')).toBeNull();
    expect(select('rust', argv, ['lib'], 'cargo-test')).toBeNull();
    expect(select('rust', argv, ['lib::tests::adds'], 'cargo-json')).toBeNull();
  });
});

describe('go test narrowed to named tests', () => {
  it("runs -run '^(A|B)$' over the tests' packages instead of the command's patterns", () => {
    const argv = ['go', 'test', '-mod=mod', '-json', './...'];
    const names = [
      'example.com/calc.TestAdd',
      'example.com/calc/sub.TestTable/one_value',
      'gopkg.in/yaml.v3.TestX',
      'example.com/calc.TestAdd',
    ];
    expect(select('go', argv, names, 'go-test')).toEqual([
      'go',
      'test',
      '-run',
      '^(TestAdd|TestTable|TestX)$',
      '-mod=mod',
      '-json',
      'example.com/calc',
      'example.com/calc/sub',
      'gopkg.in/yaml.v3',
    ]);
    // A go.work command names each module's packages.
    expect(select('go', ['go', 'test', '-json', './a/...', './b/...'], ['example.com/b.TestB'], 'go-test')).toEqual([
      'go',
      'test',
      '-run',
      '^(TestB)$',
      '-json',
      'example.com/b',
    ]);
  });

  it('runs whole for a package that failed outside its tests', () => {
    expect(select('go', ['go', 'test', '-json', './...'], ['example.com/calc'], 'go-test')).toBeNull();
    expect(select('go', ['go', 'test', '-json', './...'], ['example.com/calc.TestAdd'], 'go-build')).toBeNull();
  });
});

describe('mvn test narrowed to named tests', () => {
  const argv = ['mvn', '-o', '-B', '-fae', 'test'];

  it("gives Surefire the classes (by simple name, as its docs say) and their methods, a module's tests by their class", () => {
    const names = [
      'com.acme.CalcTest#adds',
      'core/com.acme.CalcTest#subtracts',
      'com.acme.Other$Inner#works',
      'com.acme.ParamTest#sums(int)[2]',
    ];
    expect(select('maven', argv, names, 'surefire')).toEqual([
      ...argv,
      '-Dtest=CalcTest#adds+subtracts,Other$Inner#works,ParamTest#sums',
      '-Dsurefire.failIfNoSpecifiedTests=false',
    ]);
  });

  it('runs whole for a display name that is no method', () => {
    expect(select('maven', argv, ['com.acme.CalcTest#adds two numbers'], 'surefire')).toBeNull();
    expect(select('maven', argv, ['com.acme.CalcTest#adds'], 'maven')).toBeNull();
  });
});

describe('jest and vitest narrowed to named tests', () => {
  it('jest (npm test -- --verbose): -t on the titles, the files as path filters', () => {
    const argv = ['npm', 'test', '--', '--verbose'];
    expect(select('node', argv, ['test/sum.test.js > sum > adds (1+1)', 'test/sum.test.js > wobbles'], 'node-test')).toEqual([
      ...argv,
      '-t',
      '(?:adds \\(1\\+1\\)|wobbles)$',
      'test/sum.test.js',
    ]);
  });

  it('vitest (pnpm test --run --reporter=verbose); a name without its file runs every file', () => {
    const argv = ['pnpm', 'test', '--run', '--reporter=verbose'];
    expect(select('node', argv, ['src/a.test.ts > works', 'suite > other'], 'node-test')).toEqual([...argv, '-t', '(?:works|other)$']);
  });

  it('runs whole for node:test, a script the arguments may not reach, and workspace runs', () => {
    expect(select('node', ['npm', 'test'], ['suite > works'], 'node-test')).toBeNull();
    expect(select('node', ['npm', 'test', '--workspaces', '--if-present'], ['a: works'], 'node-test-workspace')).toBeNull();
  });
});
