// Search terms from a task's title and description. Pure: text in, weighted terms out.
//
// What a task names precisely weighs most: a path (`src/config/load.rs`), an identifier written the way
// code writes it (snake_case, camelCase, `Type::method`, anything in backticks). Plain words weigh
// least; ranking later scales every term by how rare it is in the repository.

export type TermKind = 'path' | 'symbol' | 'module' | 'compound' | 'word';

export interface Term {
  /** The string searched for (fixed, matched case-insensitively when all lowercase). */
  text: string;
  kind: TermKind;
  weight: number;
}

export const TERM_WEIGHTS: Record<TermKind, number> = {
  path: 6,
  symbol: 4,
  module: 2.5,
  compound: 2.5,
  word: 1,
};

const MAX_TERMS = 40;

// English function words plus the vocabulary every task uses ("fix", "bug", "should") that says
// nothing about where the change goes.
const STOP_WORDS = new Set(
  `a about above after again against all almost also although always am an and any are aren as at be because been before being
  below between both but by can cannot could couldn did didn do does doesn doing don done down during each either else even
  ever every few for from further get gets getting got had has have having he her here hers him his how however i if in into
  is isn it its itself just least less let like likely made many may me might more most much must my neither never no nor not
  now of off often on once one only or other otherwise our ours out over own per perhaps please quite rather really same
  see seems several shall she should since so some such than that the their theirs them then there these they this those
  though through thus to too under until up upon us very via was wasn way we well were weren what whatever when whenever where
  whether which while who whom whose why will with within without won would yet you your yours
  fix fixes fixed fixing bug bugs issue issues add adds added adding remove removes removed update updates
  updated make makes making use uses used using instead wrong incorrect incorrectly correct correctly properly proper
  currently current now new old need needs needed want wants able unable case cases work works working broken happen happens
  happening sometimes already still actually thing things something anything nothing everything etc e g ie eg
  expected expect expects behavior behaviour result results instead returns return'`
    .split(/\s+/)
    .filter(Boolean),
);

// Extensions that make a bare `name.ext` a file name rather than, say, a version number.
const FILE_EXTENSIONS =
  'rs|ts|tsx|js|jsx|mjs|cjs|py|go|java|kt|rb|php|c|h|cc|cpp|hpp|cs|swift|toml|json|yaml|yml|md|sql|sh|lock|proto|graphql|css|scss|html|vue|svelte';
const PATH_RE = new RegExp(`(?:[\\w.-]+/)+[\\w.-]+|\\b[\\w-]+\\.(?:${FILE_EXTENSIONS})\\b`, 'g');
const COLON_PATH_RE = /\b[A-Za-z_]\w*(?:::[A-Za-z_]\w*)+/g;
const BACKTICK_RE = /`([^`\n]+)`/g;

export function extractTerms(title: string, description = ''): Term[] {
  const terms = new Map<string, Term>();
  const add = (text: string, kind: TermKind, weightScale = 1): void => {
    const clean = text.trim();
    if (clean.length < 2) return;
    const weight = TERM_WEIGHTS[kind] * weightScale;
    const existing = terms.get(clean);
    if (!existing || existing.weight < weight) terms.set(clean, { text: clean, kind, weight });
  };

  // The title says what the change is about; its words weigh a little more than the description's.
  const sources: [string, number][] = [
    [title, 1.25],
    [description, 1],
  ];
  for (const [raw, scale] of sources) {
    let text = raw;

    for (const m of text.matchAll(BACKTICK_RE)) {
      const code = m[1].trim();
      if (/^[A-Za-z_$][\w$]*$/.test(code)) add(code, 'symbol', scale * 1.1);
      // Anything else in backticks is read for the identifiers and paths inside it below.
    }
    text = text.replace(BACKTICK_RE, ' $1 ');

    for (const m of text.matchAll(PATH_RE)) {
      const path = m[0].replace(/^\.\//, '').replace(/[.,:;]+$/, '');
      // `and/or`, `input/output`: a slash between two plain words is prose, not a path.
      if (!/[._-]/.test(path) && path.split('/').length === 2 && !/\b(src|lib|tests?|crates?|packages?|app|bin)\//.test(path)) continue;
      if (/^https?:/.test(path) || /^\d+(\.\d+)+$/.test(path)) continue;
      add(path, 'path', scale);
      const base = path.split('/').pop() ?? path;
      const stem = base.replace(/\.[^.]+$/, '').replace(/\.(test|spec)$/, '');
      if (stem.length >= 3 && stem !== base) add(stem, 'module', scale);
    }
    text = text.replace(PATH_RE, (p) => (/[./]/.test(p) ? ' ' : p));

    for (const m of text.matchAll(COLON_PATH_RE)) {
      const parts = m[0].split('::').filter((p) => p !== 'crate' && p !== 'self' && p !== 'super' && p !== 'std');
      parts.forEach((part, i) => {
        const last = i === parts.length - 1;
        if (last || /[A-Z]/.test(part[0])) add(part, 'symbol', scale);
        else add(part, 'module', scale);
      });
    }
    text = text.replace(COLON_PATH_RE, ' ');

    const plainWords: string[] = [];
    let sentenceStart = true;
    for (const m of text.matchAll(/[A-Za-z_$][\w$]*|[.!?;:]/g)) {
      const word = m[0];
      if (/^[.!?;:]$/.test(word)) {
        sentenceStart = true;
        plainWords.push('');
        continue;
      }
      const followedByCall = text.slice((m.index ?? 0) + word.length).startsWith('(');
      if (isCodeIdentifier(word) || followedByCall) {
        add(word, 'symbol', scale);
        plainWords.push('');
        for (const part of splitIdentifier(word)) if (!STOP_WORDS.has(part) && part.length >= 4) add(stem(part), 'word', scale * 0.5);
      } else if (/^[A-Z][a-z]+[A-Z]?$/.test(word) && !sentenceStart && !STOP_WORDS.has(word.toLowerCase())) {
        // A capitalised word mid-sentence is often a type name (`Parser`, `Config`).
        add(word, 'symbol', scale * 0.6);
        add(stem(word.toLowerCase()), 'word', scale);
        plainWords.push(word.toLowerCase());
      } else if (/^[A-Z]{4,}$/.test(word) && !STOP_WORDS.has(word.toLowerCase())) {
        // README, CHANGELOG, CONTRIBUTING: a word in capitals often names the file written so.
        add(word, 'module', scale);
        add(stem(word.toLowerCase()), 'word', scale);
        plainWords.push(word.toLowerCase());
      } else {
        const lower = word.toLowerCase();
        if (lower.length >= 3 && !STOP_WORDS.has(lower) && !/^\d/.test(lower)) {
          add(stem(lower), 'word', scale);
          plainWords.push(lower);
        } else {
          plainWords.push('');
        }
      }
      sentenceStart = false;
    }

    // Two adjacent content words are often one identifier in the code: "retry budget" is
    // `retry_budget`, `retryBudget` or `RetryBudget` (the last two found case-insensitively).
    for (let i = 0; i + 1 < plainWords.length; i++) {
      const a = plainWords[i];
      const b = plainWords[i + 1];
      if (!a || !b) continue;
      add(`${a}_${b}`, 'compound', scale);
      add(`${a}${b}`, 'compound', scale);
    }
  }

  return [...terms.values()].sort((a, b) => b.weight - a.weight || (a.text < b.text ? -1 : 1)).slice(0, MAX_TERMS);
}

/** An identifier only code would write: snake_case, camelCase, PascalCase with inner capitals, SCREAMING_CASE. */
export function isCodeIdentifier(word: string): boolean {
  if (word.length < 3) return false;
  if (/^_+$/.test(word)) return false;
  if (/[a-zA-Z0-9]_[a-zA-Z0-9]/.test(word)) return true; // snake_case / SCREAMING_CASE
  if (/^[a-z]+[A-Z]/.test(word) || /[a-z][A-Z]/.test(word.slice(1))) return true; // camelCase / PascalCase
  if (/\$/.test(word)) return true;
  return false;
}

/** `parseHeaderLine` / `parse_header_line` → ["parse", "header", "line"]. */
export function splitIdentifier(word: string): string[] {
  return word
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_$]+/)
    .map((p) => p.toLowerCase())
    .filter(Boolean);
}

/**
 * A light suffix stripper: search is by substring, so `token` also finds `tokens` and `tokenize`.
 * Stems never go below four letters, which would match too much.
 */
export function stem(word: string): string {
  const rules: [RegExp, string][] = [
    [/ies$/, 'y'],
    [/(ss)es$/, '$1'],
    [/([^s])s$/, '$1'],
    [/ing$/, ''],
    [/ed$/, ''],
    [/ly$/, ''],
  ];
  for (const [re, to] of rules) {
    if (!re.test(word)) continue;
    const out = word.replace(re, to);
    return out.length >= 4 ? out : word;
  }
  return word;
}
