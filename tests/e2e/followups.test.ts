// `autodev review` and `autodev ci-fix` end to end: the built CLI against the local OpenAI and GitHub
// servers, a real bare repository holding the pull request's branch, and a real cargo build in
// bubblewrap. A follow-up commits on top of the pull request's own branch and answers on the PR.
import { describe, expect, it } from '@jest/globals';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CALC_FILES } from '../support/calc-crate.js';
import { makeRunDir, runCli, taskEnv, type RunDir } from '../support/cli.js';
import type { GitHubServer } from '../support/github-server.js';
import type { OpenAiServer } from '../support/openai-server.js';
import { replyFor } from '../real/fixtures.js';
import { createTaskStore, newStoredTask } from '../../src/store/task-store.js';
import { e2eSuite, fakeGitHubToken, git, makeWorkRepo, refs, storedTasks } from './harness.js';

const RUN_TIMEOUT = 180_000;
const LIB = CALC_FILES['src/lib.rs'];
const FIXED_LIB = LIB.replace('    a - b\n', '    a + b\n');
const SATURATING_TEST = '    #[test]\n    fn multiplies_saturating() {\n        assert_eq!(mul(i32::MAX, 2), i32::MAX);\n    }\n';
/** The PR's branch after the review: mul saturates, with a test that shows it. */
const REVIEWED_LIB = FIXED_LIB.replace('    a * b\n', '    a.saturating_mul(b)\n').replace(/\n}\n$/, `\n\n${SATURATING_TEST}}\n`);
const FOOTER = '<sub>Opened by autodev, task `20260101000000-abcdef`.</sub>';
const BRANCH = 'autodev/fix-add-0123abcd';

const { cache, startServers } = e2eSuite();

/** The calc crate on main, and the PR's branch (one commit with `lib`) pushed to its bare origin. */
async function prRepo(lib: string): Promise<{ origin: string; head: string; main: string }> {
  const { work, origin } = await makeWorkRepo();
  await git(work, ['checkout', '-q', '-b', BRANCH]);
  await writeFile(path.join(work, 'src', 'lib.rs'), lib);
  await git(work, ['commit', '-q', '-am', 'Fix add']);
  await git(work, ['push', '-q', 'origin', BRANCH]);
  return { origin, head: await git(origin, ['rev-parse', BRANCH]), main: await git(origin, ['rev-parse', 'main']) };
}

function prompt(llm: OpenAiServer, index: number): string {
  return (llm.chatBodies()[index]?.messages ?? []).map((m) => m.content).join('\n');
}

function followup(kind: 'review' | 'ci-fix', origin: string, runDir: RunDir, llm: OpenAiServer, github: GitHubServer) {
  return runCli([kind, '--json', '--repo', origin, 'acme/calc#1'], { cwd: runDir.cwd, env: taskEnv(runDir, { cache, llm, github }) });
}

describe('autodev review', () => {
  it(
    'turns the unresolved threads into a commit on the same branch, answers each thread and requests review again',
    async () => {
      const { origin, head, main } = await prRepo(FIXED_LIB);
      const reply = await replyFor('Make mul saturate', { 'src/lib.rs': FIXED_LIB }, { 'src/lib.rs': REVIEWED_LIB });
      const { llm, github } = await startServers({ replies: [{ content: reply }] });
      github.addPullRequest('acme', 'calc', { title: 'Fix add', body: `Fixes add.\n\n${FOOTER}`, head: BRANCH, headSha: head });
      const open = github.addReviewThread('acme', 'calc', 1, {
        path: 'src/lib.rs',
        line: 10,
        comments: [{ author: 'alice', body: 'mul panics on overflow in debug builds: make it saturate at i32::MAX, with a test.' }],
      });
      github.addReviewThread('acme', 'calc', 1, {
        path: 'src/lib.rs',
        line: 5,
        resolved: true,
        comments: [{ author: 'bob', body: 'RESOLVED-ALREADY: rename add' }],
      });
      const before = await refs(origin);
      const runDir = await makeRunDir();

      const outcome = await followup('review', origin, runDir, llm, github);

      expect(outcome.code).toBe(0);
      const json = JSON.parse(outcome.stdout) as { status: string; change: { branch: string; commit: string }; pr: unknown };
      expect(json.status).toBe('verified');
      expect(json.change.branch).toBe(BRANCH);
      // The model was asked about the open thread only.
      expect(prompt(llm, 0)).toContain('make it saturate at i32::MAX');
      expect(prompt(llm, 0)).not.toContain('RESOLVED-ALREADY');
      // One new commit on top of the PR's head, on the same branch; nothing else on the remote moved.
      const after = await refs(origin);
      expect(after).toEqual({ ...before, [`refs/heads/${BRANCH}`]: json.change.commit });
      expect(after['refs/heads/main']).toBe(main);
      expect(await git(origin, ['rev-parse', `${BRANCH}^`])).toBe(head);
      expect(await git(origin, ['show', `${BRANCH}:src/lib.rs`])).toContain('a.saturating_mul(b)');
      // No new pull request; the thread answered with the commit; alice asked to review again.
      expect(github.pulls('acme', 'calc')).toHaveLength(1);
      const replies = github.reviewComments('acme', 'calc', 1).filter((c) => c.inReplyTo !== null);
      expect(replies).toHaveLength(1);
      expect(replies[0].inReplyTo).toBe(open.commentIds[0]);
      expect(replies[0].body).toContain(`pushed ${json.change.commit.slice(0, 8)} to \`${BRANCH}\``);
      expect(github.requestedReviewers('acme', 'calc', 1)).toEqual(['alice']);
      // Recorded as a review follow-up of PR #1.
      const tasks = await storedTasks(runDir);
      expect(tasks.map((t) => t.request.followup && `${t.request.followup.kind}#${t.request.followup.number}`)).toEqual(['review#1']);

      // Asked again with the thread answered and nothing new: nothing to do, no model call.
      const again = await followup('review', origin, runDir, llm, github);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/no unresolved review thread/);
      expect(llm.chatBodies()).toHaveLength(1);
    },
    RUN_TIMEOUT,
  );

  it('refuses a pull request autodev did not open (exit 3) and touches nothing', async () => {
    const { origin, head } = await prRepo(FIXED_LIB);
    const { llm, github } = await startServers({ replies: [] });
    github.addPullRequest('acme', 'calc', { title: 'Someone else', body: 'by hand', head: BRANCH, headSha: head });
    github.addReviewThread('acme', 'calc', 1, { path: 'src/lib.rs', line: 5, comments: [{ author: 'alice', body: 'x' }] });
    const runDir = await makeRunDir();
    const outcome = await followup('review', origin, runDir, llm, github);
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toMatch(/not opened by autodev/);
    expect(llm.chatBodies()).toHaveLength(0);
    expect(await git(origin, ['rev-parse', BRANCH])).toBe(head);
  });
  it('refuses past lifecycle.max_followups review follow-ups on one PR (exit 3), counted in the task store', async () => {
    const { origin, head } = await prRepo(FIXED_LIB);
    const { llm, github } = await startServers({ replies: [] });
    github.addPullRequest('acme', 'calc', { title: 'Fix add', body: FOOTER, head: BRANCH, headSha: head });
    github.addReviewThread('acme', 'calc', 1, { path: 'src/lib.rs', line: 5, comments: [{ author: 'alice', body: 'again' }] });
    const runDir = await makeRunDir();
    const store = createTaskStore(path.join(runDir.state, 'autodev'));
    for (const n of [1, 2]) {
      const followup = {
        kind: 'review' as const,
        owner: 'acme',
        repo: 'calc',
        number: 1,
        branch: BRANCH,
        fingerprints: [],
        replyTo: [],
        reviews: [],
        reviewers: [],
      };
      const request = {
        repo: origin,
        title: `review ${n}`,
        description: '',
        noPr: false,
        keepWorkspace: false,
        risk: 'medium' as const,
        followup,
      };
      await store.create(newStoredTask(`20260101000000-00000${n}`, request, { kind: 'run', pid: null }, 'verified'));
    }
    const env = { ...taskEnv(runDir, { cache, llm, github }), AUTODEV_LIFECYCLE_MAX_FOLLOWUPS: '2' };

    const outcome = await runCli(['review', '--repo', origin, 'acme/calc#1'], { cwd: runDir.cwd, env });

    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toMatch(/has had 2 review follow-up\(s\), the most lifecycle.max_followups \(2\) allows/);
    expect(llm.chatBodies()).toHaveLength(0);
    expect(await git(origin, ['rev-parse', BRANCH])).toBe(head);
  });
});

describe('autodev ci-fix', () => {
  it('reports a failure that also fails on the base branch and does not chase it', async () => {
    const { origin, head } = await prRepo(FIXED_LIB);
    const { llm, github } = await startServers({ replies: [] });
    github.addPullRequest('acme', 'calc', { title: 'Fix add', body: FOOTER, head: BRANCH, headSha: head });
    github.addCheckRun('acme', 'calc', head, { name: 'lint', conclusion: 'failure', log: 'error: clippy is unhappy\n' });
    github.addCheckRun('acme', 'calc', head, { name: 'test', conclusion: 'success' });
    github.addCheckRun('acme', 'calc', 'main', { name: 'lint', conclusion: 'failure', log: 'error: clippy is unhappy\n' });
    const runDir = await makeRunDir();

    const outcome = await followup('ci-fix', origin, runDir, llm, github);

    expect(outcome.code).toBe(0);
    expect(JSON.parse(outcome.stdout)).toEqual({
      status: 'nothing',
      message: expect.stringMatching(/fails on main too \(lint\).*not chased/),
    });
    expect(llm.chatBodies()).toHaveLength(0);
    expect(await git(origin, ['rev-parse', BRANCH])).toBe(head);
    expect(await storedTasks(runDir)).toEqual([]);
    expect(github.issueComments('acme', 'calc', 1).join('\n')).toMatch(/fail on the base branch too.*`lint`/);
  });

  it(
    'repairs a failure the PR caused with a commit on its branch, and stops when the same failure comes back',
    async () => {
      const broken = FIXED_LIB.replace(/\n}\n$/, `\n\n${SATURATING_TEST}}\n`);
      const { origin, head } = await prRepo(broken);
      const token = fakeGitHubToken();
      const log = [
        '2026-01-01T00:00:01.0000000Z ##[group]Run cargo test',
        '2026-01-01T00:00:02.0000000Z running 3 tests',
        `2026-01-01T00:00:02.1000000Z using token ${token}`,
        "2026-01-01T00:00:03.0000000Z thread 'tests::multiplies_saturating' panicked at src/lib.rs:10:5:",
        '2026-01-01T00:00:03.0000000Z attempt to multiply with overflow',
        '2026-01-01T00:00:03.5000000Z test result: FAILED. 2 passed; 1 failed',
      ].join('\n');
      const fix = await replyFor('Saturate mul', { 'src/lib.rs': broken }, { 'src/lib.rs': REVIEWED_LIB });
      const { llm, github } = await startServers({ replies: [{ content: fix }] });
      github.addPullRequest('acme', 'calc', { title: 'Fix add', body: FOOTER, head: BRANCH, headSha: head });
      github.addCheckRun('acme', 'calc', head, { name: 'test', conclusion: 'failure', log });
      github.addCheckRun('acme', 'calc', 'main', { name: 'test', conclusion: 'success' });
      const runDir = await makeRunDir();

      const outcome = await followup('ci-fix', origin, runDir, llm, github);

      expect(outcome.code).toBe(0);
      const json = JSON.parse(outcome.stdout) as { status: string; change: { commit: string } };
      expect(json.status).toBe('verified');
      expect(await git(origin, ['rev-parse', BRANCH])).toBe(json.change.commit);
      expect(await git(origin, ['rev-parse', `${BRANCH}^`])).toBe(head);
      // The distilled log reached the model, the token in it did not.
      expect(prompt(llm, 0)).toContain('attempt to multiply with overflow');
      expect(prompt(llm, 0)).not.toContain(token);
      expect(outcome.stdout + outcome.stderr).not.toContain(token);
      const [task] = await storedTasks(runDir);
      expect(task.request.followup).toMatchObject({ kind: 'ci-fix', number: 1, branch: BRANCH });
      expect(task.request.followup!.fingerprints).toHaveLength(1);
      expect(github.issueComments('acme', 'calc', 1).join('\n')).toMatch(new RegExp(`pushed ${json.change.commit.slice(0, 8)}`));

      // CI fails the same way again (timestamps differ): no second attempt.
      github.setPullHead('acme', 'calc', 1, json.change.commit);
      github.addCheckRun('acme', 'calc', json.change.commit, {
        name: 'test',
        conclusion: 'failure',
        log: log.replace(/2026-01-01T00/g, '2026-01-02T09'),
      });
      const again = await followup('ci-fix', origin, runDir, llm, github);
      expect(again.code).toBe(1);
      expect(JSON.parse(again.stdout)).toEqual({
        status: 'stop',
        message: expect.stringContaining(
          `the same failure came back after a fix attempt on acme/calc#1: test (fingerprint ${task.request.followup!.fingerprints[0]}`,
        ),
      });
      expect(llm.chatBodies()).toHaveLength(1);
      expect(await git(origin, ['rev-parse', BRANCH])).toBe(json.change.commit);
    },
    RUN_TIMEOUT,
  );
});
