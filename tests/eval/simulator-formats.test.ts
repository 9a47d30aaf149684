// The simulated model writes whichever edit format it is asked for: the gold patch as a unified
// diff, SEARCH/REPLACE blocks, an apply_patch envelope or whole files (those the prompt shows whole),
// each read back by the format's parser and applied by the one applier to the gold result.
import { describe, expect, it } from '@jest/globals';
import { editFormat } from '../../src/generate/formats/index.js';
import { filesShown, requestedFormat, spoiledReply, type SimulatedFormat } from '../../src/eval/simulator.js';
import type { EvalTask } from '../../src/eval/tasks.js';
import { applyPatchToFiles } from '../../src/patch/apply.js';
import { parseEdits } from '../../src/patch/edits.js';

const LIB = 'pub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\npub fn mul(a: i32, b: i32) -> i32 {\n    a * b\n}\n';
const GOLD = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -1,3 +1,3 @@
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
--- /dev/null
+++ b/src/extra.rs
@@ -0,0 +1,2 @@
+// new
+pub fn two() -> i32 { 2 }
`;
const TASK: EvalTask = {
  id: 't',
  repo: '/x',
  base: 'main',
  title: 'Fix add',
  description: '',
  failToPass: [],
  passToPass: [],
  testPatch: null,
  testPatchMode: 'hidden',
  goldPatch: GOLD,
};
const FILES: Record<string, string> = { 'src/lib.rs': LIB };

function applied(reply: string, format: SimulatedFormat): Record<string, string | null> {
  const generation = editFormat(format).parse(reply);
  const result = applyPatchToFiles(parseEdits(generation.patch), (p) => FILES[p] ?? null);
  expect(result.failure).toBeNull();
  return Object.fromEntries(result.changes.map((c) => [c.path, c.content]));
}

describe('the simulated model in each edit format', () => {
  const expected = applied(spoiledReply(TASK, { spoils: [] }, 1, 'udiff'), 'udiff');

  it.each(['search-replace', 'apply-patch', 'whole'] as const)('writes %s that applies to the gold result', (format) => {
    const shown = new Map([['src/lib.rs', LIB.replace(/\n$/, '')]]);
    const reply = spoiledReply(TASK, { spoils: [] }, 1, format, shown);
    expect(editFormat(format).parse(reply).format).toBe(format);
    const got = applied(reply, format);
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
    expect(got['src/lib.rs']?.trimEnd()).toBe(expected['src/lib.rs']?.trimEnd());
    expect(got['src/extra.rs']?.trimEnd()).toBe(expected['src/extra.rs']?.trimEnd());
  });

  it('writes SEARCH/REPLACE for a file it was asked to write whole but was not shown whole', () => {
    const reply = spoiledReply(TASK, { spoils: [] }, 1, 'whole', new Map());
    expect(reply).toContain('<<<<<<< SEARCH');
  });

  it('carries a spoil into the format: a wrong first attempt does not add the fix', () => {
    const reply = spoiledReply(TASK, { spoils: ['wrongFirst'] }, 1, 'search-replace');
    expect(reply).not.toContain('a + b');
  });

  it('reads the asked format from the system prompt, and the files shown whole from the prompt', () => {
    for (const format of ['udiff', 'search-replace', 'apply-patch', 'whole'] as const) {
      expect(requestedFormat(editFormat(format).instructions)).toBe(format);
    }
    const prompt = '# Task\nFix add\n\n## src/lib.rs\n```\nfn a() {}\n```\n\n## src/big.rs (lines 1-3)\n```\nx\n```';
    expect([...filesShown(prompt)]).toEqual([['src/lib.rs', 'fn a() {}']]);
  });
});
