// The `udiff` edit format: "## Rationale", "## Commit message", "## Patch" with one ```diff block.
// The reply is parsed strictly: prose before the first heading and surrounding whitespace are
// tolerated; anything else is an error whose text goes back to the model.
import { ReplyFormatError, type EditFormat, type Generation } from '../types.js';

const INSTRUCTIONS = `Reply in exactly this format and nothing else:

## Rationale
<why this change does the task, briefly>

## Commit message
<subject line, imperative, at most 72 characters>
<optional body after a blank line>

## Patch
\`\`\`diff
--- a/path/to/file
+++ b/path/to/file
@@ -start,count +start,count @@
 context line
-removed line
+added line
\`\`\`

Rules for the patch: a unified diff against the files as shown, paths relative to the repository root,
at least 3 lines of unchanged context around each change, new files as "--- /dev/null" / "+++ b/path".
Never touch .git/ or paths outside the repository. Never put secrets, tokens or keys in code.`;

export const udiffFormat: EditFormat = { name: 'udiff', instructions: INSTRUCTIONS, parse: parseReply };

const HEADINGS = ['rationale', 'commit message', 'patch'] as const;

function parseReply(text: string): Generation {
  const normalized = text.replace(/\r\n/g, '\n');
  const headingRe = /^##[ \t]+(.+?)[ \t]*$/gm;
  const found: { name: string; start: number; bodyStart: number }[] = [];
  for (const match of normalized.matchAll(headingRe)) {
    found.push({ name: match[1].toLowerCase(), start: match.index, bodyStart: match.index + match[0].length });
  }
  const sections: Record<string, string> = {};
  for (let i = 0; i < found.length; i++) {
    const end = i + 1 < found.length ? found[i + 1].start : normalized.length;
    if (!HEADINGS.includes(found[i].name as (typeof HEADINGS)[number])) {
      // A heading inside the patch body (a Markdown file's diff) belongs to the patch.
      if (sections.patch !== undefined) continue;
      throw new ReplyFormatError(`unexpected section "## ${found[i].name}"; use exactly: ## Rationale, ## Commit message, ## Patch`);
    }
    if (sections[found[i].name] !== undefined) throw new ReplyFormatError(`section "## ${found[i].name}" appears twice`);
    sections[found[i].name] = normalized.slice(found[i].bodyStart, end);
  }
  // Sections after ## Patch that we skipped above are part of it: rebuild the patch body to the end.
  const patchHeading = found.find((f) => f.name === 'patch');
  if (patchHeading) sections.patch = normalized.slice(patchHeading.bodyStart);
  const order = found.filter((f) => HEADINGS.includes(f.name as (typeof HEADINGS)[number])).map((f) => f.name);
  for (const name of HEADINGS) {
    if (sections[name] === undefined) throw new ReplyFormatError(`missing section "## ${capitalize(name)}"`);
  }
  if (order.join('|') !== HEADINGS.join('|')) {
    throw new ReplyFormatError('sections out of order; use: ## Rationale, ## Commit message, ## Patch');
  }
  const rationale = sections.rationale.trim();
  const commitMessage = sections['commit message']
    .trim()
    .replace(/^```\w*\n?|```$/g, '')
    .trim();
  if (!rationale) throw new ReplyFormatError('"## Rationale" is empty');
  if (!commitMessage) throw new ReplyFormatError('"## Commit message" is empty');
  const subject = commitMessage.split('\n')[0];
  if (subject.length > 120) throw new ReplyFormatError('the commit subject line is longer than 120 characters');
  const patch = extractDiffBlock(sections.patch);
  return { rationale, commitMessage, patch };
}

function extractDiffBlock(section: string): string {
  const trimmed = section.trim();
  const open = /^(`{3,}|~{3,})[ \t]*(diff|patch|udiff)?[ \t]*\n/.exec(trimmed);
  if (!open) throw new ReplyFormatError('"## Patch" must hold one ```diff fenced block');
  const fence = open[1];
  const rest = trimmed.slice(open[0].length);
  const close = rest.lastIndexOf(`\n${fence}`);
  if (close < 0) throw new ReplyFormatError('the ```diff block of "## Patch" is not closed');
  const after = rest.slice(close + 1 + fence.length).trim();
  if (after) throw new ReplyFormatError('text after the ```diff block of "## Patch"; put only the diff there');
  // Models often write one block per file: the fences between blocks are not part of the patch (the
  // patch is quoted back to the model in a repair round, where they would break its own fence).
  const between = new RegExp(`\\n${fence}[ \\t]*\\n(?:[ \\t]*\\n)*${fence}[ \\t]*(?:diff|patch|udiff)?[ \\t]*(?=\\n)`, 'g');
  const body = `${rest.slice(0, close).replace(between, '')}\n`;
  if (!/^(---|\+\+\+|diff --git|@@)/m.test(body))
    throw new ReplyFormatError('the ```diff block holds no unified diff (no ---/+++ or @@ lines)');
  return body;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
