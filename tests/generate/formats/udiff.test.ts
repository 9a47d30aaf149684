// The udiff edit format's parser: what a reply must hold, what it may add around it, and the error
// each malformed reply gets (its text is what the model is told when it is asked again).
import { describe, expect, it } from '@jest/globals';
import { editFormat } from '../../../src/generate/formats/index.js';
import { ReplyFormatError } from '../../../src/generate/types.js';

const udiff = editFormat('udiff');

const LIB_DIFF = `--- a/src/lib.rs
+++ b/src/lib.rs
@@ -3,5 +3,5 @@
 /// Adds two numbers.
 pub fn add(a: i32, b: i32) -> i32 {
-    a - b
+    a + b
 }
`;
const README_DIFF = `--- a/README.md
+++ b/README.md
@@ -1,3 +1,3 @@
 # calc
-Subtracts.
+Adds.
 
`;

function reply(patchSection: string, { rationale = 'add used the wrong operator.', commit = 'Fix add' } = {}): string {
  return `## Rationale\n${rationale}\n\n## Commit message\n${commit}\n\n## Patch\n${patchSection}`;
}

function fenced(diff: string, fence = '```diff'): string {
  return `${fence}\n${diff}${fence.replace(/diff$/, '')}\n`;
}

function parseError(text: string): string {
  try {
    udiff.parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ReplyFormatError);
    return (error as Error).message;
  }
  throw new Error('the reply was accepted');
}

describe('the udiff format', () => {
  it('is the format the planner names, with instructions that show the three sections', () => {
    expect(udiff.name).toBe('udiff');
    expect(udiff.instructions).toMatch(/## Rationale[\s\S]*## Commit message[\s\S]*## Patch\n```diff/);
    expect(() => editFormat('diff3')).toThrow(/unknown edit format "diff3" \(known: udiff, search-replace, apply-patch, whole\)/);
  });

  it('reads a well-formed reply: rationale, commit message with its body, and the diff as written', () => {
    const generation = udiff.parse(reply(fenced(LIB_DIFF), { commit: 'Fix add\n\nIt subtracted.' }));
    expect(generation).toEqual({
      rationale: 'add used the wrong operator.',
      commitMessage: 'Fix add\n\nIt subtracted.',
      patch: LIB_DIFF,
      format: 'udiff',
    });
  });

  it('tolerates prose before the first heading, CRLF line ends, a ~~~ or ```patch fence and a fenced commit message', () => {
    const text = `Sure! Here is the fix.\n\n${reply(fenced(LIB_DIFF, '~~~diff'), { commit: '```\nFix add\n```' })}`.replace(/\n/g, '\r\n');
    expect(udiff.parse(text)).toEqual({
      rationale: 'add used the wrong operator.',
      commitMessage: 'Fix add',
      patch: LIB_DIFF,
      format: 'udiff',
    });
    expect(udiff.parse(reply(`\`\`\`patch\n${LIB_DIFF}\`\`\`\n`)).patch).toBe(LIB_DIFF);
  });

  it('keeps several files in one block whole, and joins one block per file into one patch without the fences between', () => {
    expect(udiff.parse(reply(fenced(LIB_DIFF + README_DIFF))).patch).toBe(LIB_DIFF + README_DIFF);
    const twoBlocks = udiff.parse(reply(`${fenced(LIB_DIFF)}\n${fenced(README_DIFF)}`));
    expect(twoBlocks.patch).toBe(LIB_DIFF + README_DIFF);
    expect(twoBlocks.patch).not.toContain('```');
  });

  it('keeps a Markdown heading or fence inside the diff as part of the patch', () => {
    // The context line `## Usage` lost its leading space, as models write it: still the patch's.
    const markdown = '--- a/README.md\n+++ b/README.md\n@@ -1,3 +1,4 @@\n # calc\n## Usage\n+```\n usage\n';
    expect(udiff.parse(reply(fenced(markdown, '````diff'))).patch).toBe(markdown);
  });

  it.each([
    ['only prose, no sections', 'I would change the minus into a plus in src/lib.rs.', 'missing section "## Rationale"'],
    ['no commit message', `## Rationale\nwhy\n\n## Patch\n${fenced(LIB_DIFF)}`, 'missing section "## Commit message"'],
    ['no patch', '## Rationale\nwhy\n\n## Commit message\nFix add\n', 'missing section "## Patch"'],
    ['an empty rationale', reply(fenced(LIB_DIFF), { rationale: '' }), '"## Rationale" is empty'],
    ['an empty commit message', reply(fenced(LIB_DIFF), { commit: '' }), '"## Commit message" is empty'],
    ['a commit subject over 120 characters', reply(fenced(LIB_DIFF), { commit: 'x'.repeat(121) }), 'longer than 120 characters'],
    ['a patch outside a fence', reply(LIB_DIFF), 'must hold one ```diff fenced block'],
    ['an unclosed fence', reply(`\`\`\`diff\n${LIB_DIFF}`), 'is not closed'],
    ['prose after the diff', reply(`${fenced(LIB_DIFF)}\nThis should fix it.\n`), 'text after the ```diff block'],
    ['a fenced block with no diff in it', reply(fenced('pub fn add(a: i32, b: i32) -> i32 { a + b }\n')), 'holds no unified diff'],
    ['sections out of order', `## Commit message\nFix add\n\n## Rationale\nwhy\n\n## Patch\n${fenced(LIB_DIFF)}`, 'sections out of order'],
    [
      'a section twice',
      `## Rationale\nwhy\n\n## Rationale\nagain\n\n## Commit message\nFix\n\n## Patch\n${fenced(LIB_DIFF)}`,
      'appears twice',
    ],
    [
      'an unknown section before the patch',
      `## Rationale\nwhy\n\n## Tests\nnone\n\n## Commit message\nFix\n\n## Patch\n${fenced(LIB_DIFF)}`,
      'unexpected section "## tests"',
    ],
  ])('refuses %s with a message that says what to fix', (_name, text, message) => {
    expect(parseError(text)).toContain(message);
  });
});
