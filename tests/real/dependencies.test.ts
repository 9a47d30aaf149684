// Dependencies for real: a git dependency served by a local bare repository is fetched by a real
// `cargo fetch` in the `deps` step (network on, into the shared cache), then the crate is built,
// tested and linted offline with the network unshared; a dependency that cannot be fetched stops
// the task at `deps` with one line naming it.
import { afterAll, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { e2eSuite } from '../e2e/harness.js';
import { GREET_TASK, greetCrate, greetFix, makeShoutDependency, removeVisibleRepos, replyFor, unfetchableCrate } from './fixtures.js';
import { RUN_TIMEOUT, explain, planOnly, realRun, step } from './helpers.js';

const { cache } = e2eSuite();

afterAll(removeVisibleRepos);

describe('a crate with a git dependency', () => {
  it(
    'fetches it in the deps step, builds offline in the sandbox and opens the PR',
    async () => {
      const depUrl = await makeShoutDependency();
      const files = greetCrate(depUrl);
      const run = await realRun({
        files,
        task: GREET_TASK,
        replies: [await replyFor('Fix the greeting typo', files, greetFix())],
        cache,
        forgeRepo: 'acme/greet',
      });
      expect({ code: run.outcome.code, status: run.json.status, why: run.outcome.code ? explain(run) : '' }).toEqual({
        code: 0,
        status: 'pr_created',
        why: '',
      });

      // deps ran once, before the baseline, and really fetched into the shared cache.
      const deps = step(run.json, 'deps');
      expect(deps).toHaveLength(1);
      expect(deps[0].status).toBe('ok');
      const order = run.json.steps.map((s) => `${s.id}/${s.mode}`);
      expect(order.indexOf('deps/change')).toBeLessThan(order.indexOf('build/baseline'));
      expect(order.indexOf('build/baseline')).toBeGreaterThan(0);
      expect(deps[0].summary).toMatch(/dependencies fetched/);
      const gitDb = path.join(cache, 'autodev', 'cargo-home', 'git', 'db');
      expect((await readdir(gitDb)).some((name) => name.startsWith('repo-'))).toBe(true);

      // The dependency's code was compiled and its behaviour is what the fixed test checks.
      expect(step(run.json, 'test', { mode: 'change' }).at(-1)?.summary).toMatch(
        /1 passed, 0 failed.*fixes 1 test\(s\) failing on the base: lib::tests::greets/,
      );
      expect(run.json.baseline.failingTests).toEqual(['lib::tests::greets']);
      expect(run.json.pr?.number).toBe(1);
      expect(run.github.pulls('acme', 'greet')).toHaveLength(1);
      // Cargo.lock written by the fetch is not part of the change.
      expect(run.json.change?.files).toEqual(['src/lib.rs']);
    },
    RUN_TIMEOUT,
  );

  it(
    'a second task on the same repository reuses the fetched dependency, the target dir and the baseline',
    async () => {
      const files = greetCrate(await makeShoutDependency());
      const answer = await replyFor('Fix the greeting typo', files, greetFix());
      const first = await realRun({ files, task: GREET_TASK, replies: [answer], cache, forgeRepo: 'acme/greet2' });
      expect({ code: first.outcome.code, why: first.outcome.code ? explain(first) : '' }).toEqual({ code: 0, why: '' });
      const targets = path.join(cache, 'autodev', 'target');
      const targetsAfterFirst = await readdir(targets);
      const second = await realRun({
        files,
        bare: first.bare,
        task: { title: 'Say hello properly', description: GREET_TASK.description },
        replies: [answer],
        cache,
        forgeRepo: 'acme/greet2',
      });
      expect({ code: second.outcome.code, why: second.outcome.code ? explain(second) : '' }).toEqual({ code: 0, why: '' });
      for (const id of ['build', 'test', 'lint']) {
        expect(step(first.json, id, { mode: 'baseline' })[0].summary).not.toMatch(/reused/);
        expect(step(second.json, id, { mode: 'baseline' })[0].summary).toMatch(/ \(reused from an earlier task on [0-9a-f]{8}\)$/);
      }
      // The reused baseline still tells the change's fix apart from what already failed.
      expect(second.json.baseline.failingTests).toEqual(['lib::tests::greets']);
      expect(step(second.json, 'test', { mode: 'change' }).at(-1)?.summary).toMatch(
        /fixes 1 test\(s\) failing on the base: lib::tests::greets/,
      );
      // One target dir for the repository, shared by both tasks' different clone paths.
      expect(await readdir(targets)).toEqual(targetsAfterFirst);
      // The first task made the repository's mirror, the second cloned out of it after a fetch.
      expect(step(first.json, 'clone')[0].summary).toMatch(/local mirror created\)$/);
      expect(step(second.json, 'clone')[0].summary).toMatch(/from the local mirror, fetched\)$/);
    },
    RUN_TIMEOUT,
  );

  it(
    'plans deps with network and the rest offline without network',
    async () => {
      const { outcome, plan } = await planOnly(greetCrate(await makeShoutDependency()), cache);
      expect(outcome.code).toBe(0);
      const byId = Object.fromEntries(plan.steps.map((s) => [s.id, s]));
      expect(byId.deps).toMatchObject({ command: ['cargo', 'fetch'], network: true });
      for (const id of ['build', 'test', 'lint']) {
        expect(byId[id].network).toBe(false);
        expect(byId[id].command).toContain('--offline');
      }
      expect(plan.steps.map((s) => s.id).indexOf('deps')).toBe(plan.steps.map((s) => s.id).indexOf('clone') + 1);
    },
    RUN_TIMEOUT,
  );
});

describe('a dependency that cannot be fetched', () => {
  it(
    'fails the deps step with one line naming the dependency, before any model call',
    async () => {
      const run = await realRun({
        files: await unfetchableCrate(),
        task: { title: 'Anything', description: 'x' },
        replies: [],
        cache,
        forgeRepo: 'acme/lonely',
      });
      expect(run.outcome.code).toBe(1);
      expect(run.json.status).toBe('failed');
      const deps = step(run.json, 'deps');
      expect(deps.at(-1)?.status).toBe('failed');
      const summary = deps.at(-1)!.summary;
      expect(summary).not.toContain('\n');
      expect(summary).toMatch(/ghostdep/);
      expect(summary).toMatch(/^cannot fetch dependency ghostdep from file:\/\/\S+nowhere\.git: .*No such file or directory/);
      // Nothing after deps ran: no codegen, no build with a confusing error.
      expect(run.json.steps.map((s) => s.id)).not.toContain('build');
      expect(run.llm.chatBodies()).toHaveLength(0);
      expect(run.github.pulls('acme', 'lonely')).toHaveLength(0);
      expect(existsSync(path.join(cache, 'autodev', 'cargo-home'))).toBe(true);
    },
    RUN_TIMEOUT,
  );
});
