// The reply every edit format asks for: "## Rationale", "## Commit message", then the edits under
// "## Patch" (or "## Changes" / "## Edits"). The edits are read by their own markers, so a model
// that writes another format than the one asked for, or several, is understood all the same.
// Prose before the first heading and surrounding whitespace are tolerated; anything else is an error
// whose text goes back to the model.
import { isPlainDiff, parseEdits } from '../../patch/edits.js';
import { PatchParseError } from '../../patch/parse.js';
import { ReplyFormatError, type EditFormat, type Generation } from '../types.js';

const EDIT_HEADINGS = ['patch', 'changes', 'edits'];
const HEADINGS = ['rationale', 'commit message', 'edits'] as const;

const SHARED_SECTIONS = `Reply in exactly this format and nothing else:

## Rationale
<why this change does the task, briefly>

## Commit message
<subject line, imperative, at most 72 characters>
<optional body after a blank line>`;

const SAFETY = 'Never touch .git/ or paths outside the repository. Never put secrets, tokens or keys in code.';

/**
 * An edit format: the reply layout every format shares, its edits under `heading` as `example`
 * shows them, its `rules`, and the one reply reader.
 */
export function editFormat(name: string, heading: string, example: string, rules: string): EditFormat {
  return {
    name,
    instructions: `${SHARED_SECTIONS}\n\n## ${heading}\n${example}\n\n${rules}\n${SAFETY}`,
    parse: (reply) => parseReply(reply, heading),
  };
}

export function parseReply(text: string, editsHeading: string): Generation {
  const normalized = text.replace(/\r\n/g, '\n');
  const headingRe = /^##[ \t]+(.+?)[ \t]*$/gm;
  const found: { name: string; start: number; bodyStart: number }[] = [];
  for (const match of normalized.matchAll(headingRe)) {
    const raw = match[1].toLowerCase();
    found.push({ name: EDIT_HEADINGS.includes(raw) ? 'edits' : raw, start: match.index, bodyStart: match.index + match[0].length });
  }
  const sections: Record<string, string> = {};
  for (let i = 0; i < found.length; i++) {
    const end = i + 1 < found.length ? found[i + 1].start : normalized.length;
    if (!HEADINGS.includes(found[i].name as (typeof HEADINGS)[number])) {
      // A heading inside the edits (a Markdown file's change) belongs to them.
      if (sections.edits !== undefined) continue;
      throw new ReplyFormatError(
        `unexpected section "## ${found[i].name}"; use exactly: ## Rationale, ## Commit message, ## ${editsHeading}`,
      );
    }
    if (sections.edits !== undefined) continue;
    if (sections[found[i].name] !== undefined) throw new ReplyFormatError(`section "## ${found[i].name}" appears twice`);
    sections[found[i].name] = normalized.slice(found[i].bodyStart, end);
  }
  // Everything after the edits heading is the edits, headings inside them included.
  const editsAt = found.find((f) => f.name === 'edits');
  if (editsAt) sections.edits = normalized.slice(editsAt.bodyStart);
  const order = found
    .slice(0, editsAt ? found.indexOf(editsAt) + 1 : found.length)
    .filter((f) => HEADINGS.includes(f.name as (typeof HEADINGS)[number]))
    .map((f) => f.name);
  for (const name of HEADINGS) {
    if (sections[name] === undefined)
      throw new ReplyFormatError(`missing section "## ${name === 'edits' ? editsHeading : capitalize(name)}"`);
  }
  if (order.join('|') !== HEADINGS.join('|')) {
    throw new ReplyFormatError(`sections out of order; use: ## Rationale, ## Commit message, ## ${editsHeading}`);
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
  return { rationale, commitMessage, ...readEdits(sections.edits, editsHeading) };
}

function readEdits(section: string, heading: string): { patch: string; format: string } {
  // A unified diff alone is taken as written (the applier reports what is wrong with it).
  if (isPlainDiff(section)) return { patch: extractDiffBlock(section, heading), format: 'udiff' };
  try {
    return { patch: `${section.trim()}\n`, format: parseEdits(section).formats.join('+') };
  } catch (err) {
    if (!(err instanceof PatchParseError)) throw err;
    throw new ReplyFormatError(`"## ${heading}": ${err.message}`);
  }
}

/** A unified diff is kept without its fences (it is quoted back in a repair round and given to git apply). */
function extractDiffBlock(section: string, heading: string): string {
  const trimmed = section.trim();
  const open = /^(`{3,}|~{3,})[ \t]*(diff|patch|udiff)?[ \t]*\n/.exec(trimmed);
  if (!open) throw new ReplyFormatError(`"## ${heading}" must hold one \`\`\`diff fenced block`);
  const fence = open[1];
  const rest = trimmed.slice(open[0].length);
  const close = rest.lastIndexOf(`\n${fence}`);
  if (close < 0) throw new ReplyFormatError(`the \`\`\`diff block of "## ${heading}" is not closed`);
  const after = rest.slice(close + 1 + fence.length).trim();
  if (after) throw new ReplyFormatError(`text after the \`\`\`diff block of "## ${heading}"; put only the diff there`);
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
