// Real go runs on small zero-dependency modules built in a temp dir, offline (GOPROXY=off), with the
// host's build cache: the parsers read what go printed.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { go } from '../../../src/toolchains/go/index.js';
import { depsFailureLine, isGoTestFile, parseGoDiagnostics, parseGoTest } from '../../../src/toolchains/go/output.js';
import { diffDiagnostics, lineMapFromDiff } from '../../../src/toolchains/compare.js';
import { distillFailure } from '../../../src/toolchains/distill.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'autodev-toolchains-go-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function module(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  const tree = { 'go.mod': `module example.com/${name}\n\ngo 1.22\n`, ...files };
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function runGo(dir: string, args: string[]): { stdout: string; stderr: string; exitCode: number | null } {
  const result = spawnSync('go', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      // The host's own build cache (compiling the standard library again would take minutes).
      HOME: process.env.HOME,
      GOMODCACHE: join(root, '.gomodcache'),
      GOPATH: join(root, '.gopath'),
      GOENV: 'off',
      GOTOOLCHAIN: 'local',
      GOTELEMETRY: 'off',
      GOFLAGS: '-buildvcs=false',
      GOPROXY: 'off',
      GOSUMDB: 'off',
    },
  });
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.status };
}

const CALC = `package calc

// Sum adds the values.
func Sum(xs ...int) int {
	total := 1
	for _, x := range xs {
		total += x
	}
	return total
}
`;

const CALC_TEST = `package calc

import (
	"fmt"
	"testing"
)

func TestSum(t *testing.T) {
	if got := Sum(1, 2); got != 3 {
		t.Errorf("Sum(1, 2) = %d, want 3", got)
	}
}

func TestTable(t *testing.T) {
	cases := []struct {
		name string
		in   []int
		want int
	}{{"empty", nil, 1}, {"one value", []int{4}, 4}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fmt.Println("checking", c.name)
			if got := Sum(c.in...); got != c.want {
				t.Fatalf("got %d want %d", got, c.want)
			}
		})
	}
}

func TestSkipped(t *testing.T) { t.Skip("not today") }

func TestOk(t *testing.T) {}
`;

describe('parseGoTest on real go test -json runs', () => {
  it('names tests and subtests by import path, keeps failures with their output and lists skipped tests', () => {
    const dir = module('calc', {
      'calc.go': CALC,
      'calc_test.go': CALC_TEST,
      'more/more.go': 'package more\n',
      'more/more_test.go': 'package more\n\nimport "testing"\n\nfunc TestMore(t *testing.T) {}\n',
    });
    const out = runGo(dir, ['test', '-mod=mod', '-json', './...']);
    expect(out.exitCode).toBe(1);
    const report = parseGoTest(out.stdout, out.stderr);
    expect(report.failed.map((f) => f.name).sort()).toEqual(['example.com/calc.TestSum', 'example.com/calc.TestTable/one_value']);
    const sum = report.failed.find((f) => f.name === 'example.com/calc.TestSum')!;
    expect(sum.output).toBe('calc_test.go:10: Sum(1, 2) = 4, want 3');
    const sub = report.failed.find((f) => f.name.endsWith('one_value'))!;
    expect(sub.output).toContain('checking one value');
    expect(sub.output).toContain('calc_test.go:24: got 5 want 4');
    expect(sub.output).not.toMatch(/=== RUN|--- FAIL/);
    // The parent failed only through its subtest: not a failure of its own, not a pass either.
    expect(report.passed.sort()).toEqual(['example.com/calc.TestOk', 'example.com/calc.TestTable/empty', 'example.com/calc/more.TestMore']);
    expect(report.ignoredTests).toEqual(['example.com/calc.TestSkipped']);
    expect(report.compileErrors).toEqual([]);
    expect(report.summary).toBe('3 passed, 2 failed, 1 ignored');
    // The verify step reads it through the toolchain; the machine lines stay out of the view.
    const parsed = go.parse('go-test', out);
    expect(parsed.tests?.failed).toHaveLength(2);
    expect(
      out.stdout
        .split('\n')
        .filter(Boolean)
        .every((l) => go.isMachineLine!(l)),
    ).toBe(true);
  });

  it('reports a panicking test with its panic and a package that fails outside its tests', () => {
    const dir = module('panics', {
      'p.go': 'package p\n',
      'p_test.go':
        'package p\n\nimport (\n\t"os"\n\t"testing"\n)\n\nfunc TestMain(m *testing.M) {\n\tif os.Getenv("NEVER") == "" {\n\t\tm.Run()\n\t}\n}\n\nfunc TestNilMap(t *testing.T) {\n\tvar m map[string]int\n\tm["x"] = 1\n}\n',
      'exit/e.go': 'package exit\n',
      'exit/e_test.go':
        'package exit\n\nimport (\n\t"fmt"\n\t"os"\n\t"testing"\n)\n\nfunc TestMain(m *testing.M) {\n\tfmt.Println("setup failed: no database")\n\tos.Exit(3)\n}\n',
    });
    const out = runGo(dir, ['test', '-mod=mod', '-json', './...']);
    const report = parseGoTest(out.stdout, out.stderr);
    const names = report.failed.map((f) => f.name).sort();
    expect(names).toEqual(['example.com/panics.TestNilMap', 'example.com/panics/exit']);
    expect(report.failed.find((f) => f.name.endsWith('TestNilMap'))!.output).toContain('panic: assignment to entry in nil map');
    expect(report.failed.find((f) => f.name.endsWith('/exit'))!.output).toContain('setup failed: no database');
  });

  it('turns a package that does not compile into compile errors, the other packages still counted', () => {
    const dir = module('broken', {
      'ok/ok.go': 'package ok\n',
      'ok/ok_test.go': 'package ok\n\nimport "testing"\n\nfunc TestFine(t *testing.T) {}\n',
      'bad/bad.go': 'package bad\n\nfunc Broken() int {\n\tvar s string = 3\n\treturn undefinedThing + s\n}\n',
      'bad/bad_test.go': 'package bad\n\nimport "testing"\n\nfunc TestBroken(t *testing.T) { Broken() }\n',
    });
    const out = runGo(dir, ['test', '-mod=mod', '-json', './...']);
    const report = parseGoTest(out.stdout, out.stderr);
    expect(report.passed).toEqual(['example.com/broken/ok.TestFine']);
    expect(report.failed).toEqual([]);
    expect(report.compileErrors.map((d) => [d.file, d.line, d.column, d.message])).toEqual([
      ['bad/bad.go', 4, 17, 'cannot use 3 (untyped int constant) as string value in variable declaration'],
      ['bad/bad.go', 5, 9, 'undefined: undefinedThing'],
    ]);
    expect(report.summary).toBe('1 passed, 0 failed (1 package(s) did not build)');
    expect(distillFailure('test', report)).toContain('bad/bad.go:5:9: undefined: undefinedThing');
  });
});

describe('parseGoDiagnostics on real go build and go vet output', () => {
  it('reads go build errors as located errors, without the package header', () => {
    const dir = module('buildfail', { 'x.go': 'package x\n\nfunc F() int {\n\treturn "nope"\n}\n' });
    const out = runGo(dir, ['build', '-mod=mod', './...']);
    expect(out.exitCode).toBe(1);
    const { diagnostics } = go.parse('go-build', out);
    expect(diagnostics).toEqual([
      {
        level: 'error',
        code: null,
        message: 'cannot use "nope" (untyped string constant) as int value in return statement',
        file: 'x.go',
        line: 4,
        column: 9,
        rendered: './x.go:4:9: cannot use "nope" (untyped string constant) as int value in return statement',
      },
    ]);
  });

  it('says plainly that an imported module is not there offline (nothing is fetched)', () => {
    const dir = module('offline', { 'x.go': 'package x\n\nimport "github.com/google/go-cmp/cmp"\n\nvar _ = cmp.Equal\n' });
    const out = runGo(dir, ['build', '-mod=mod', './...']);
    expect(out.exitCode).toBe(1);
    const { diagnostics } = go.parse('go-build', out);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ level: 'error', file: 'x.go', line: 3 });
    expect(diagnostics[0].message).toBe(
      'cannot find module providing package github.com/google/go-cmp/cmp: module lookup disabled by GOPROXY=off',
    );
  });

  it('says which module is missing when the read-only module cache stops the lookup (as the sandbox mounts it after deps)', () => {
    // The line go build printed in the sandbox (tests/real/go.test.ts; root cannot be kept from writing here),
    // with a module whose path has capitals.
    const stderr =
      '# example.com/tags/tags\ntags/tags.go:7:2: mkdir /tmp/cache/autodev/go-mod/cache/download/github.com/!burnt!sushi/toml: read-only file system\n';
    const { diagnostics } = go.parse('go-build', { stdout: '', stderr, exitCode: 1 });
    expect(diagnostics.map((d) => [d.file, d.line, d.message])).toEqual([
      [
        'tags/tags.go',
        7,
        'module github.com/BurntSushi/toml is not in the module cache, and nothing is fetched after the deps step (module lookup disabled by GOPROXY=off)',
      ],
    ]);
  });

  it('renders the plain reason for the model, not the mkdir error', () => {
    const stderr = 'x.go:3:8: mkdir /c/go-mod/cache/download/github.com/google/go-cmp/@v: read-only file system\n';
    expect(go.parse('go-build', { stdout: '', stderr, exitCode: 1 }).diagnostics[0].rendered).toBe(
      'x.go:3:8: module github.com/google/go-cmp is not in the module cache, and nothing is fetched after the deps step (module lookup disabled by GOPROXY=off)',
    );
  });

  it('reads go vet findings as warnings, and only what a change adds counts', () => {
    const before = 'package v\n\nimport "fmt"\n\nfunc Show(n int) string {\n\treturn fmt.Sprintf("%s items", n)\n}\n';
    const after = before + '\nfunc Copy() int {\n\tx := 1\n\tx = x\n\treturn x\n}\n';
    const base = go.parse('go-vet', runGo(module('vetbase', { 'v.go': before }), ['vet', '-mod=mod', './...'])).diagnostics;
    const change = go.parse('go-vet', runGo(module('vetchange', { 'v.go': after }), ['vet', '-mod=mod', './...'])).diagnostics;
    expect(base.map((d) => [d.level, d.file, d.line, d.message])).toEqual([
      ['warning', 'v.go', 6, 'fmt.Sprintf format %s has arg n of wrong type int'],
    ]);
    expect(change).toHaveLength(2);
    const diff = `diff --git a/v.go b/v.go\n--- a/v.go\n+++ b/v.go\n@@ -7,0 +8,6 @@\n+\n+func Copy() int {\n+\tx := 1\n+\tx = x\n+\treturn x\n+}\n`;
    const added = diffDiagnostics(base, change, lineMapFromDiff(diff));
    expect(added.map((d) => d.message)).toEqual(['self-assignment of x']);
  });

  it('takes the check name golangci-lint and staticcheck print at the end of a line', () => {
    // Their line format (`file:line:col: message (check)`); neither linter is installed here.
    const text =
      'main.go:12:2: SA4006: this value of err is never used (staticcheck)\nstore/db.go:40:15: Error return value of `rows.Close` is not checked (errcheck)\n';
    expect(parseGoDiagnostics(text, 'warning', { codes: true }).map((d) => [d.code, d.file, d.line, d.message])).toEqual([
      ['staticcheck', 'main.go', 12, 'SA4006: this value of err is never used'],
      ['errcheck', 'store/db.go', 40, 'Error return value of `rows.Close` is not checked'],
    ]);
  });
});

describe('the rest of the Go output', () => {
  it('names the module a failed go mod download could not fetch, on one line', () => {
    const text =
      'go: github.com/acme/ghost@v1.0.0: reading https://example.invalid/github.com/acme/ghost/@v/v1.0.0.mod: 404 Not Found\n\tserver response: not found\n';
    expect(depsFailureLine(text, 1)).toBe(
      'cannot fetch Go module github.com/acme/ghost v1.0.0: reading https://example.invalid/github.com/acme/ghost/@v/v1.0.0.mod: 404 Not Found',
    );
    expect(depsFailureLine('something odd\n', 1)).toMatch(/^go modules could not be fetched: /);
  });

  it('knows test files by their _test.go suffix', () => {
    expect(isGoTestFile('calc/calc_test.go')).toBe(true);
    expect(isGoTestFile('calc/calc.go')).toBe(false);
    expect(isGoTestFile('testdata/x.go')).toBe(false);
  });
});
