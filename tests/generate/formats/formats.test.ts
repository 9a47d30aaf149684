// The edit formats' replies: each format's own layout is read, and so is a reply in another format
// than the one asked for (or several), since models do not always write what they are told.
import { describe, expect, it } from '@jest/globals';
import { resolveEditFormat } from '../../../src/generate/formats/choose.js';
import { editFormat } from '../../../src/generate/formats/index.js';
import { ReplyFormatError } from '../../../src/generate/types.js';
import { parseEdits } from '../../../src/patch/edits.js';

const HEAD = '## Rationale\nadd subtracted.\n\n## Commit message\nFix add\n\n';
const SR = 'src/lib.rs\n```rust\n<<<<<<< SEARCH\n    a - b\n=======\n    a + b\n>>>>>>> REPLACE\n```\n';
const ENVELOPE =
  '*** Begin Patch\n*** Update File: src/lib.rs\n@@ pub fn add(a: i32, b: i32) -> i32 {\n-    a - b\n+    a + b\n*** End Patch\n';
const WHOLE = 'src/lib.rs\n```rust\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n```\n';
const DIFF = '```diff\n--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n fn add() {\n-    a - b\n+    a + b\n }\n```\n';

function parseError(format: string, text: string): string {
  try {
    editFormat(format).parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ReplyFormatError);
    return (error as Error).message;
  }
  throw new Error('the reply was accepted');
}

describe('edit formats', () => {
  it.each([
    ['search-replace', SR, /<<<<<<< SEARCH[\s\S]*=======[\s\S]*>>>>>>> REPLACE/],
    ['apply-patch', ENVELOPE, /\*\*\* Begin Patch[\s\S]*\*\*\* Update File:[\s\S]*\*\*\* End Patch/],
    ['whole', WHOLE, /COMPLETE new content/],
  ])('%s: instructions show the layout with the rationale and commit message, and its reply is read', (name, body, layout) => {
    const format = editFormat(name);
    expect(format.instructions).toMatch(/## Rationale[\s\S]*## Commit message[\s\S]*## Changes/);
    expect(format.instructions).toMatch(layout);
    const generation = format.parse(`Sure.\n\n${HEAD}## Changes\n${body}`);
    expect(generation).toEqual({ rationale: 'add subtracted.', commitMessage: 'Fix add', patch: body, format: name });
    expect(parseEdits(generation.patch).files.map((f) => f.newPath)).toEqual(['src/lib.rs']);
  });

  it('reads a reply in another format than the one asked for, under either heading', () => {
    expect(editFormat('apply-patch').parse(`${HEAD}## Changes\n${SR}`).format).toBe('search-replace');
    expect(editFormat('search-replace').parse(`${HEAD}## Patch\n${ENVELOPE}`).format).toBe('apply-patch');
    const udiff = editFormat('search-replace').parse(`${HEAD}## Changes\n${DIFF}`);
    expect(udiff.format).toBe('udiff');
    expect(udiff.patch).toMatch(/^--- a\/src\/lib\.rs\n/);
    expect(editFormat('udiff').parse(`${HEAD}## Patch\n${SR}`).format).toBe('search-replace');
  });

  it('reads a reply mixing formats, keeping every edit', () => {
    const generation = editFormat('search-replace').parse(
      `${HEAD}## Changes\n${SR}\n${ENVELOPE.replace(/src\/lib\.rs/, 'src/main.rs')}\n${DIFF}`,
    );
    expect(generation.format).toBe('search-replace+apply-patch+udiff');
    expect(parseEdits(generation.patch).files.map((f) => f.newPath)).toEqual(['src/lib.rs', 'src/main.rs', 'src/lib.rs']);
  });

  it('sends a broken block or envelope back to the model as a format error naming it', () => {
    expect(parseError('search-replace', `${HEAD}## Changes\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n`)).toMatch(
      /"## Changes": SEARCH\/REPLACE block #1 has no file path/,
    );
    expect(parseError('apply-patch', `${HEAD}## Changes\n*** Begin Patch\n*** Update File: a.rs\n-x\n`)).toMatch(/End Patch" missing/);
    expect(parseError('search-replace', `${HEAD}`)).toMatch(/missing section "## Changes"/);
    expect(parseError('udiff', `${HEAD}`)).toMatch(/missing section "## Patch"/);
  });
});

describe('llm.edit_format = "auto"', () => {
  it.each([
    ['gpt-4o', 'apply-patch'],
    ['gpt-4.1-mini', 'apply-patch'],
    ['openai/gpt-5', 'apply-patch'],
    ['o3-mini', 'apply-patch'],
    ['o4-mini', 'apply-patch'],
    ['claude-sonnet-4', 'search-replace'],
    ['gemini-2.5-pro', 'search-replace'],
    ['Qwen2.5-Coder-32B-Instruct', 'search-replace'],
    ['deepseek-coder', 'search-replace'],
    ['meta-llama/Llama-3.1-70B', 'search-replace'],
    ['my-local-model', 'search-replace'],
    ['ollama', 'search-replace'],
  ])('%s → %s', (model, format) => {
    expect(resolveEditFormat('auto', model)).toBe(format);
  });

  it('a forced format is kept whatever the model', () => {
    expect(resolveEditFormat('udiff', 'claude-3')).toBe('udiff');
    expect(resolveEditFormat('whole', 'gpt-4o')).toBe('whole');
  });
});
