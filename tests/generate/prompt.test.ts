// What the model is told: the format's rules, the task, the code selected for it with the line
// ranges shown, what already fails on the base, the previous round's failure, and a word on the
// placeholders that stand for redacted secrets.
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ContextSelection } from '../../src/context/index.js';
import { editFormat } from '../../src/generate/formats/index.js';
import { buildMessages } from '../../src/generate/prompt.js';
import type { RepairFeedback } from '../../src/generate/types.js';
import { clearSecrets, registerSecret } from '../../src/util/redact.js';

const udiff = editFormat('udiff');
const TASK = { title: 'Fix add: it subtracts', description: '  The function `add` returns a - b.  \n' };
const LIB = 'pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n';
// Assembled so no scanner mistakes this file for a leak.
const AWS_KEY = ['AKIA', 'Z3Q7XK2M', 'PL4RT9WE'].join('');

function context(files: { path: string; content: string; ranges?: [number, number][] }[]): ContextSelection {
  return {
    files: files.map((f) => ({ path: f.path, content: f.content, ranges: f.ranges ?? null, score: 1, tokens: 10 })),
    tokens: 10 * files.length,
    budgetTokens: 8000,
    encoding: 'o200k_base',
    terms: [],
    ranking: [],
  } as ContextSelection;
}

function messages(
  overrides: {
    context?: ContextSelection | null;
    failingTests?: string[];
    repair?: RepairFeedback | null;
    formatError?: string | null;
  } = {},
) {
  return buildMessages({
    task: TASK,
    context: overrides.context ?? null,
    baseline: { failingTests: overrides.failingTests ?? [] },
    repair: overrides.repair ?? null,
    format: udiff,
    formatError: overrides.formatError ?? null,
  });
}

afterEach(() => clearSecrets());

describe('the prompt', () => {
  it("is a system message with the edit format's rules, then the task with its trimmed description", () => {
    const [system, user, ...rest] = messages();
    expect(system.role).toBe('system');
    expect(system.content).toMatch(/^You are autodev/);
    expect(system.content).toContain(udiff.instructions);
    expect(user).toEqual({ role: 'user', content: '# Task\nFix add: it subtracts\n\n## Description\nThe function `add` returns a - b.' });
    expect(rest).toEqual([]);
  });

  it('leaves out an empty description, empty context and a clean base', () => {
    const [, user] = buildMessages({
      task: { title: 'Tidy', description: '  \n' },
      context: context([]),
      baseline: { failingTests: [] },
      repair: null,
      format: udiff,
      formatError: null,
    });
    expect(user.content).toBe('# Task\nTidy');
  });

  it('shows each selected file fenced, with the line ranges shown when only part of it fits', () => {
    const [, user] = messages({
      context: context([
        { path: 'src/lib.rs', content: LIB },
        {
          path: 'src/big.rs',
          content: 'fn a() {}\n…\nfn z() {}',
          ranges: [
            [1, 12],
            [40, 52],
          ],
        },
      ]),
    });
    expect(user.content).toContain(
      `# Repository code (selected for this task)\n\n## src/lib.rs\n\`\`\`\n${LIB.replace(/\n$/, '')}\n\`\`\``,
    );
    expect(user.content).toContain('## src/big.rs (lines 1-12, 40-52)\n```\nfn a() {}\n…\nfn z() {}\n```');
    expect(user.content.indexOf('## src/lib.rs')).toBeLessThan(user.content.indexOf('## src/big.rs'));
  });

  it('names the tests that already fail on the base, at most twenty of them', () => {
    const [, user] = messages({ failingTests: ['tests::adds', 'tests::sums'] });
    expect(user.content).toContain('# Already failing on the base (before any change)\n- tests::adds\n- tests::sums');
    const many = Array.from({ length: 23 }, (_, i) => `tests::t${i}`);
    const [, crowded] = messages({ failingTests: many });
    expect(crowded.content).toContain('- tests::t19\n- …and 3 more');
    expect(crowded.content).not.toContain('tests::t20');
  });

  it('in a repair round quotes the previous patch and what failed, and asks for a patch against the original files', () => {
    const previousPatch = '--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n-    a - b\n+    a * b\n';
    const [, user] = messages({ repair: { feedback: 'error[E0308]: mismatched types (src/lib.rs:2)', previousPatch } });
    expect(user.content).toContain(`# Your previous patch failed\n\nIt was:\n\`\`\`diff\n${previousPatch.replace(/\n$/, '')}\n\`\`\``);
    expect(user.content).toContain(
      'What failed:\nerror[E0308]: mismatched types (src/lib.rs:2)\n\nWrite a new patch against the ORIGINAL files above',
    );
    const [, noPatch] = messages({ repair: { feedback: 'the patch did not apply', previousPatch: null } });
    expect(noPatch.content).toContain('# Your previous patch failed\n\nWhat failed:\nthe patch did not apply');
    expect(noPatch.content).not.toContain('It was:');
    expect(messages()[1].content).not.toContain('previous patch');
  });

  it('quotes previous SEARCH/REPLACE blocks in a fence longer than their own', () => {
    const previousPatch = 'src/lib.rs\n```rust\n<<<<<<< SEARCH\n    a - b\n=======\n    a * b\n>>>>>>> REPLACE\n```\n';
    const [, user] = messages({ repair: { feedback: 'src/lib.rs: SEARCH/REPLACE block #1 does not apply', previousPatch } });
    expect(user.content).toContain(`It was:\n\`\`\`\`\n${previousPatch.replace(/\n$/, '')}\n\`\`\`\``);
  });

  it('asks again after a malformed reply, saying what was wrong', () => {
    const all = messages({ formatError: 'missing section "## Rationale"' });
    expect(all).toHaveLength(3);
    expect(all[2]).toEqual({
      role: 'user',
      content: 'Your last reply could not be used: missing section "## Rationale". Reply again in exactly the required format.',
    });
  });

  it('shows a secret in the code only as a placeholder, and then says why it is there', () => {
    const [, clean] = messages({ context: context([{ path: 'src/lib.rs', content: LIB }]) });
    expect(clean.content).not.toContain('REDACTED');
    expect(clean.content).not.toContain('are secrets');

    const [, user] = messages({ context: context([{ path: 'src/aws.rs', content: `const KEY: &str = "${AWS_KEY}";\n` }]) });
    expect(user.content).not.toContain(AWS_KEY);
    expect(user.content).toMatch(/const KEY: &str = "\[REDACTED:[\w-]+\]";/);
    expect(user.content).toMatch(
      /\n\nNote: values shown as \[REDACTED:<kind>\] are secrets .*\n.*Copy such a placeholder exactly as shown/,
    );
  });

  it('masks a registered secret (our own key) wherever it appears, the re-ask included', () => {
    registerSecret('sk-our-own-llm-key-123456');
    const all = messages({
      repair: { feedback: 'error: token sk-our-own-llm-key-123456 rejected', previousPatch: null },
      formatError: 'echoed sk-our-own-llm-key-123456',
    });
    for (const message of all) expect(message.content).not.toContain('sk-our-own-llm-key-123456');
    expect(all[1].content).toContain('error: token *** rejected');
  });
});
