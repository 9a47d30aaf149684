import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  detectTestRunner,
  diffDiagnostics,
  distillFailure,
  newFailures,
  parseJest,
  parseNodeTestOutput,
  parseTsc,
  parseVitest,
} from '../../../src/toolchains/node/output.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'autodev-toolchains-node-'));
  writeFileSync(join(root, 'package.json'), '{ "name": "tiny", "type": "module" }\n');
  writeFileSync(
    join(root, 'math.test.js'),
    [
      "import { test, describe, it } from 'node:test';",
      "import assert from 'node:assert/strict';",
      "test('adds', () => { assert.equal(1 + 1, 2); });",
      "describe('suite', () => {",
      "  it('fails', () => { assert.equal(1 + 1, 3); });",
      "  it('skipped', { skip: true }, () => {});",
      "  it('todo', { todo: true }, () => {});",
      "  describe('nested', () => {",
      "    it('deep fail', () => { assert.deepStrictEqual({ a: 1 }, { a: 2 }); });",
      "    it('deep pass', () => {});",
      '  });',
      '});',
      "test('throws', () => { throw new Error('kaboom'); });",
      '',
    ].join('\n'),
  );
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function nodeTest(reporter: 'tap' | 'spec'): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, ['--test', `--test-reporter=${reporter}`, 'math.test.js'], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
  });
  if (result.error) throw result.error;
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

describe('node --test', () => {
  for (const reporter of ['tap', 'spec'] as const) {
    it(`parses a real run with the ${reporter} reporter`, () => {
      const run = nodeTest(reporter);
      expect(run.status).toBe(1);
      expect(detectTestRunner(run.stdout)).toBe(reporter === 'tap' ? 'node-tap' : 'node-spec');
      const report = parseNodeTestOutput(run.stdout, run.stderr);
      expect(report.passed.sort()).toEqual(['adds', 'suite > nested > deep pass']);
      expect(report.failed.map((f) => f.name)).toEqual(['suite > fails', 'suite > nested > deep fail', 'throws']);
      expect(report.ignored).toBe(2);
      // Skipped tests by name: one that ran on the base and is skipped on a change is gone, not fixed.
      expect(report.ignoredTests).toEqual(['suite > skipped', 'suite > todo']);
      expect(report.summary).toBe('2 passed, 3 failed, 2 ignored');

      const output = new Map(report.failed.map((f) => [f.name, f.output]));
      expect(output.get('suite > fails')).toContain('2 !== 3');
      expect(output.get('suite > nested > deep fail')).toMatch(/\+\s+a: 1\n\s*-\s+a: 2/);
      expect(output.get('throws')).toContain('kaboom');
      for (const text of output.values()) expect(text).not.toContain('node:internal');
      // The frame in the test file is what the model needs to find the line.
      expect(output.get('suite > fails')).toContain('math.test.js:5');

      const distilled = distillFailure('test', report);
      expect(distilled).toMatch(/^3 tests failed:/);
      expect(distilled).toContain('---- suite > nested > deep fail ----');
    });
  }
});

// Hand-written after the real output of jest 30 (`jest --ci`, and `--verbose` for the second
// file), which goes to stderr; colours removed.
const JEST_OUTPUT = `FAIL ./sum.test.js
  ✓ top level (1 ms)
  sum
    ✓ adds (2 ms)
    ✕ adds wrong (3 ms)
    ○ skipped skipped one
    deep
      ✕ equals (4 ms)

  ● sum › adds wrong

    expect(received).toBe(expected) // Object.is equality

    Expected: 5
    Received: 4

      1 | describe('sum', () => {
      2 |   it('adds', () => { expect(1 + 2).toBe(3); });
    > 3 |   it('adds wrong', () => { expect(2 + 2).toBe(5); });
        |                                          ^
      4 |   it.todo('skipped one');

      at Object.toBe (sum.test.js:3:42)

  ● sum › deep › equals

    expect(received).toEqual(expected) // deep equality

    - Expected  - 1
    + Received  + 1

      Object {
    -   "a": 2,
    +   "a": 1,
      }

      at Object.toEqual (sum.test.js:5:66)
      at Promise.then.completed (node_modules/jest-circus/build/utils.js:298:28)

FAIL src/broken.test.ts
  ● Test suite failed to run

    Cannot find module './missing' from 'src/broken.test.ts'

      at Resolver._throwModNotFoundError (node_modules/jest-resolve/build/resolver.js:427:11)

PASS ./other.test.js (5.12 s)

Test Suites: 2 failed, 1 passed, 3 total
Tests:       2 failed, 1 skipped, 4 passed, 7 total
Snapshots:   0 total
Time:        0.654 s
Ran all test suites.
`;

// Hand-written after vitest's default reporter (v1–v3 layout; `Failed Tests` blocks as printed by
// `vitest run` with colours off).
const VITEST_OUTPUT = `
 RUN  v3.2.4 /tmp/proj

 ✓ src/ok.test.ts (2 tests) 3ms
 ❯ src/math.test.ts (4 tests | 2 failed | 1 skipped) 9ms
   ❯ math (4)
     ✓ adds 1ms
     × subtracts 4ms
       → expected 1 to be 2 // Object.is equality
     × divides 1ms
       → expected 2 to be 3 // Object.is equality
     ↓ multiplies

⎯⎯⎯⎯⎯⎯⎯ Failed Tests 2 ⎯⎯⎯⎯⎯⎯⎯

 FAIL  src/math.test.ts > math > subtracts
AssertionError: expected 1 to be 2 // Object.is equality

- Expected
+ Received

- 2
+ 1

 ❯ src/math.test.ts:9:19
      7|   });
      8|   it('subtracts', () => {
      9|     expect(3 - 2).toBe(2);
       |                   ^
     10|   });

⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[1/2]⎯

 FAIL  src/math.test.ts > math > divides
AssertionError: expected 2 to be 3 // Object.is equality
 ❯ src/math.test.ts:12:19

⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯⎯[2/2]⎯

 Test Files  1 failed | 1 passed (2)
      Tests  2 failed | 3 passed | 1 skipped (6)
   Start at  10:00:00
   Duration  300ms (transform 20ms, setup 0ms, collect 15ms, tests 9ms, environment 0ms, prepare 80ms)
`;

describe('jest and vitest output', () => {
  it('parses jest failures, the verbose tree and the counts', () => {
    expect(detectTestRunner(JEST_OUTPUT)).toBe('jest');
    const report = parseNodeTestOutput('', JEST_OUTPUT);
    expect(report.failed.map((f) => f.name)).toEqual([
      'sum.test.js > sum > adds wrong',
      'sum.test.js > sum > deep > equals',
      'src/broken.test.ts > Test suite failed to run',
    ]);
    expect(report.passed).toEqual(['sum.test.js > top level', 'sum.test.js > sum > adds']);
    // A suite that failed to run counts as a failure, although jest's `Tests:` line leaves it out.
    expect(report.summary).toBe('4 passed, 3 failed, 1 ignored');
    expect(report.ignoredTests).toEqual(['sum.test.js > sum > skipped one']);
    const wrong = report.failed[0].output;
    expect(wrong).toMatch(/^expect\(received\)\.toBe\(expected\)/);
    expect(wrong).toContain('Expected: 5\nReceived: 4');
    expect(report.failed[1].output).not.toContain('jest-circus');
    expect(report.failed[2].output).toContain("Cannot find module './missing'");
    expect(parseJest(JEST_OUTPUT)).toEqual(report);
  });

  it('parses vitest failures, sharing names between the tree and the FAIL blocks', () => {
    expect(detectTestRunner(VITEST_OUTPUT)).toBe('vitest');
    const report = parseVitest(VITEST_OUTPUT);
    expect(report.failed.map((f) => f.name)).toEqual(['src/math.test.ts > math > subtracts', 'src/math.test.ts > math > divides']);
    expect(report.failed[0].output).toContain('AssertionError: expected 1 to be 2');
    expect(report.failed[0].output).toContain('- 2\n+ 1');
    expect(report.failed[0].output).not.toContain('[1/2]');
    expect(report.passed).toEqual(['src/math.test.ts > math > adds']);
    expect(report.ignored).toBe(1);
    expect(report.ignoredTests).toEqual(['src/math.test.ts > math > multiplies']);
    expect(report.summary).toBe('3 passed, 2 failed, 1 ignored');
  });

  it('compares a change with its baseline by test name', () => {
    const base = parseVitest(VITEST_OUTPUT.replace(/ FAIL {2}src\/math\.test\.ts > math > divides[\s\S]*?\[2\/2\]⎯\n/, ''));
    expect(base.failed.map((f) => f.name)).toEqual(['src/math.test.ts > math > subtracts']);
    expect(newFailures(base, parseVitest(VITEST_OUTPUT)).map((f) => f.name)).toEqual(['src/math.test.ts > math > divides']);
  });
});

describe('tsc --noEmit', () => {
  const tsc = resolve('node_modules/typescript/bin/tsc');
  let dir: string;

  beforeAll(() => {
    dir = join(root, 'ts');
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      '{ "compilerOptions": { "strict": true, "noEmit": true, "types": [] }, "files": ["a.ts"] }\n',
    );
    writeFileSync(
      join(dir, 'a.ts'),
      'const x: number = "a";\nfunction f(a: string) { return a.foo; }\nconst o: { a: { b: number } } = { a: { b: "s" } };\nexport { x, f, o };\n',
    );
  });

  for (const pretty of [false, true]) {
    it(`parses a real run (${pretty ? 'pretty' : 'plain'})`, () => {
      const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', '.', `--pretty`, String(pretty)], { cwd: dir, encoding: 'utf8' });
      expect(run.status).not.toBe(0);
      const diagnostics = parseTsc(run.stdout);
      expect(diagnostics.map((d) => [d.code, d.file, d.line, d.column])).toEqual([
        ['TS2322', 'a.ts', 1, 7],
        ['TS2339', 'a.ts', 2, 34],
        ['TS2322', 'a.ts', 3, 40],
      ]);
      expect(diagnostics[1].message).toBe("Property 'foo' does not exist on type 'string'.");
      expect(diagnostics.every((d) => d.level === 'error')).toBe(true);
      if (pretty) expect(diagnostics[1].rendered).toContain('~~~');
      expect(diagnostics.some((d) => d.rendered.includes('Found'))).toBe(false);

      // A baseline that already had the first error: only the others are the change's.
      const added = diffDiagnostics(diagnostics.slice(0, 1), diagnostics);
      expect(added.map((d) => d.code)).toEqual(['TS2339', 'TS2322']);
      expect(distillFailure('build', added)).toMatch(/^The build failed with 2 errors:[\s\S]*TS2339/);
    });
  }
});
