// The Go row, for real: tiny modules with one real dependency from the Go module proxy
// (github.com/google/uuid), fetched by `go mod download` in the deps step into the shared module
// cache, then built, tested and vetted offline in bubblewrap (GOPROXY=off, no network). The runs of
// this file share one cache dir, so the proxy is asked once.
import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { e2eSuite } from '../e2e/harness.js';
import { replyFor, type Tree } from './fixtures.js';
import { RUN_TIMEOUT, explain, planOnly, promptsSent, realRun, step } from './helpers.js';

const { cache } = e2eSuite();

const UUID_SUM =
  'github.com/google/uuid v1.6.0 h1:NIvaJDMOsjHA8n1jAhLSgzrAzy1Hgr+hNrb57e+94F0=\ngithub.com/google/uuid v1.6.0/go.mod h1:TIyPZe4MgqvfeYDBFedMoGGpEw/LqOeaOT+nhxU+yHo=\n';

const SUM_BUGGY = `package calc

// Sum adds the values.
func Sum(xs ...int) int {
	total := 1
	for _, x := range xs {
		total += x
	}
	return total
}
`;

// A module that uses its dependency; calc.Sum is off by one (TestSum fails on the base), and
// legacy.TestRounding fails on the base for a reason the task is not about.
const LEDGER: Tree = {
  'go.mod': 'module example.com/ledger\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n',
  'go.sum': UUID_SUM,
  'ids/ids.go':
    'package ids\n\nimport "github.com/google/uuid"\n\n// New returns a fresh entry id.\nfunc New() string { return uuid.NewString() }\n',
  'ids/ids_test.go':
    'package ids\n\nimport "testing"\n\nfunc TestNew(t *testing.T) {\n\tif len(New()) != 36 {\n\t\tt.Fatal("not a uuid")\n\t}\n}\n',
  'calc/calc.go': SUM_BUGGY,
  'calc/calc_test.go':
    'package calc\n\nimport "testing"\n\nfunc TestSum(t *testing.T) {\n\tcases := []struct {\n\t\tname string\n\t\tin   []int\n\t\twant int\n\t}{{"empty", nil, 0}, {"two values", []int{1, 2}, 3}}\n\tfor _, c := range cases {\n\t\tt.Run(c.name, func(t *testing.T) {\n\t\t\tif got := Sum(c.in...); got != c.want {\n\t\t\t\tt.Errorf("Sum(%v) = %d, want %d", c.in, got, c.want)\n\t\t\t}\n\t\t})\n\t}\n}\n',
  'legacy/round.go':
    'package legacy\n\n// Round rounds to the nearest integer (half away from zero, someday).\nfunc Round(x float64) int { return int(x) }\n',
  'legacy/round_test.go':
    'package legacy\n\nimport "testing"\n\nfunc TestRounding(t *testing.T) {\n\tif Round(2.5) != 3 {\n\t\tt.Fatal("2.5 should round to 3")\n\t}\n}\n',
};

const SUM_TASK = {
  title: 'Fix calc.Sum',
  description: 'Sum starts counting at 1 instead of 0, so every total is one too many.',
};

describe('a Go module with a dependency from the module proxy', () => {
  it(
    '--plan-only --json plans go mod download with network and go build/test/vet offline',
    async () => {
      const { outcome, plan } = await planOnly(LEDGER, cache);
      expect(outcome.code).toBe(0);
      expect(plan.toolchain).toBe('go');
      const byId = Object.fromEntries(plan.steps.map((s) => [s.id, s]));
      expect(byId.deps).toMatchObject({ command: ['go', 'mod', 'download'], network: true });
      expect(byId.build).toMatchObject({ command: ['go', 'build', '-mod=mod', './...'], network: false });
      expect(byId.test).toMatchObject({ command: ['go', 'test', '-mod=mod', '-json', './...'], network: false });
      expect(byId.lint).toMatchObject({ command: ['go', 'vet', '-mod=mod', './...'], network: false });
      expect(byId.test.inputs.offlineEnv).toEqual({ GOPROXY: 'off', GOSUMDB: 'off' });
    },
    RUN_TIMEOUT,
  );

  it(
    'fetches the dependency once, repairs a patch that breaks the build, fixes the failing test and does not blame the old failure',
    async () => {
      const broken = { 'calc/calc.go': SUM_BUGGY.replace('total := 1', 'total := "0"') };
      const fixed = { 'calc/calc.go': SUM_BUGGY.replace('total := 1', 'total := 0') };
      const run = await realRun({
        files: LEDGER,
        task: SUM_TASK,
        replies: [await replyFor('Start the sum at zero', LEDGER, broken), await replyFor('Start the sum at zero', LEDGER, fixed)],
        cache,
        forgeRepo: 'acme/ledger',
      });
      expect({ code: run.outcome.code, status: run.json.status, why: run.outcome.code ? explain(run) : '' }).toEqual({
        code: 0,
        status: 'pr_created',
        why: '',
      });

      // deps ran once, before the baseline, and really fetched into the shared module cache.
      const deps = step(run.json, 'deps');
      expect(deps.map((s) => s.status)).toEqual(['ok']);
      expect(deps[0].summary).toMatch(/dependencies fetched/);
      expect(existsSync(path.join(cache, 'autodev', 'go-mod', 'github.com', 'google', 'uuid@v1.6.0', 'uuid.go'))).toBe(true);

      // The base: the off-by-one subtests and the unrelated rounding test fail, the rest passes.
      expect([...run.json.baseline.failingTests].sort()).toEqual([
        'example.com/ledger/calc.TestSum/empty',
        'example.com/ledger/calc.TestSum/two_values',
        'example.com/ledger/legacy.TestRounding',
      ]);

      // Round 1 breaks the build (a located compile error goes back to the model); round 2 fixes it.
      const builds = step(run.json, 'build', { mode: 'change' });
      expect(builds.map((s) => s.status)).toEqual(['failed', 'ok']);
      expect(builds[0].summary).toMatch(/calc\/calc\.go:\d+/);
      const prompts = promptsSent(run.llm);
      expect(prompts).toHaveLength(2);
      expect(prompts[1]).toMatch(/calc\/calc\.go:7:\d+: invalid operation: total \+= x \(mismatched types string and int\)/);

      const test = step(run.json, 'test', { mode: 'change' }).at(-1)!;
      expect(test.status).toBe('ok');
      expect(test.summary).toMatch(
        /4 passed, 1 failed.*fixes 2 test\(s\) failing on the base: example\.com\/ledger\/calc\.TestSum\/empty, example\.com\/ledger\/calc\.TestSum\/two_values/,
      );
      expect(test.summary).toMatch(/; 1 still failing as on the base, not blamed\)$/);
      expect(step(run.json, 'lint', { mode: 'change' }).at(-1)?.status).toBe('ok');
      expect(run.json.change?.files).toEqual(['calc/calc.go']);
      expect(run.github.pulls('acme', 'ledger')).toHaveLength(1);
    },
    RUN_TIMEOUT * 2,
  );

  it(
    'fetches nothing after deps (an import of a module that was not downloaded fails offline), and flags a dependency the change adds in the PR body',
    async () => {
      // No requirement at all: no deps step. The module cache holds uuid from the test above.
      const files: Tree = {
        'go.mod': 'module example.com/tags\n\ngo 1.22\n',
        'tags/tags.go': 'package tags\n\n// ID returns a unique tag id.\nfunc ID() string { return "" }\n',
        'tags/tags_test.go':
          'package tags\n\nimport "testing"\n\nfunc TestID(t *testing.T) {\n\tif a, b := ID(), ID(); len(a) != 36 || a == b {\n\t\tt.Fatalf("ids %q and %q", a, b)\n\t}\n}\n',
      };
      const cmp = {
        'go.mod': 'module example.com/tags\n\ngo 1.22\n\nrequire github.com/google/go-cmp v0.7.0\n',
        'tags/tags.go':
          'package tags\n\nimport (\n\t"fmt"\n\t"math/rand"\n\n\t"github.com/google/go-cmp/cmp"\n)\n\n// ID returns a unique tag id.\nfunc ID() string {\n\t_ = cmp.Equal(1, 1)\n\treturn fmt.Sprintf("%036d", rand.Int63())\n}\n',
      };
      const uuid = {
        'go.mod': 'module example.com/tags\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n',
        'go.sum': UUID_SUM,
        'tags/tags.go':
          'package tags\n\nimport "github.com/google/uuid"\n\n// ID returns a unique tag id.\nfunc ID() string { return uuid.NewString() }\n',
      };
      const run = await realRun({
        files,
        task: { title: 'Make tag ids unique', description: 'ID returns an empty string; it must return a fresh UUID each time.' },
        replies: [await replyFor('Use go-cmp', files, cmp), await replyFor('Use uuid', files, uuid)],
        cache,
        forgeRepo: 'acme/tags',
      });
      expect({ code: run.outcome.code, status: run.json.status, why: run.outcome.code ? explain(run) : '' }).toEqual({
        code: 0,
        status: 'pr_created',
        why: '',
      });
      expect(step(run.json, 'deps')).toEqual([]);

      // Round 1: the module is not in the cache and the proxy is off: the build says so, nothing is fetched.
      const builds = step(run.json, 'build', { mode: 'change' });
      expect(builds.map((s) => s.status)).toEqual(['failed', 'ok']);
      expect(promptsSent(run.llm)[1]).toMatch(
        /tags\/tags\.go:7:2: module github\.com\/google\/go-cmp is not in the module cache, and nothing is fetched after the deps step \(module lookup disabled by GOPROXY=off\)/,
      );
      const modules = await readdir(path.join(cache, 'autodev', 'go-mod', 'github.com', 'google'));
      expect(modules.some((name) => name.startsWith('go-cmp'))).toBe(false);

      // Round 2 builds offline from the shared cache; the added module is named in the PR body.
      expect(step(run.json, 'test', { mode: 'change' }).at(-1)?.summary).toMatch(
        /fixes 1 test\(s\) failing on the base: example\.com\/tags\/tags\.TestID/,
      );
      expect(run.json.change?.files).toEqual(['go.mod', 'go.sum', 'tags/tags.go']);
      const pulls = run.github.pulls('acme', 'tags');
      expect(pulls).toHaveLength(1);
      const body = pulls[0].body ?? '';
      expect(body).toContain('### Dependency changes');
      expect(body).toMatch(/^\| dependencies \| 👀 1 added \(github\.com\/google\/uuid v1\.6\.0 normal\), 0 removed \|$/m);
      expect(body).toMatch(/^\| added \| `github\.com\/google\/uuid` \| normal \| example\.com\/tags \| {2}\| v1\.6\.0 \|$/m);
      expect(body).toMatch(/^\| policy \| 👀 review \(local\): new_dependency, lockfile_changed \|$/m);
    },
    RUN_TIMEOUT * 2,
  );
});
