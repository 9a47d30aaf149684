// Redaction by content: what looks like a credential is replaced by `[REDACTED:<rule>]` wherever text
// leaves the tool (prompts, the PR body, the JSON result, the audit trail, the task store). The
// registered-secret redaction in util/redact.ts only knows the values it was told about (our API key
// and token); this catches the ones nobody registered: a key in the repository that the model would
// be shown or would quote back, or one the model wrote into a change that failed before the secrets
// step. It runs on hot paths (every log line), so it is a plain regex table, not secretlint's engine:
// the table of ./rules.ts plus the token formats the secrets step leaves to secretlint.

import { isPlaceholder, shannonEntropy, SUPPLEMENTARY_RULES, type SecretRule } from './rules.js';

const PLACEHOLDER_PREFIX = '[REDACTED:';

/** What a redacted value is replaced with; the rule id says what kind of secret was there. */
export function placeholderFor(rule: string): string {
  return `${PLACEHOLDER_PREFIX}${rule}]`;
}

const PEM_LABEL = '(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?';

// The formats secretlint's preset covers for the secrets step, as cheap patterns; and a PEM block
// as a whole (header, body, footer), also inside a JSON string where its newlines are `\n`.
const TOKEN_RULES: SecretRule[] = [
  {
    id: 'private-key',
    description: 'Private key block',
    pattern: new RegExp(`-----BEGIN ${PEM_LABEL}-----(?:[A-Za-z0-9+/=\\s:,-]|\\\\n|\\\\r)*?-----END ${PEM_LABEL}-----`, 'g'),
    group: 0,
    accept: (block) => block.replace(/-----[^-]+-----|\\[nr]|\s/g, '').length >= 40,
  },
  {
    id: 'github-token',
    description: 'GitHub token',
    pattern: /(?<![A-Za-z0-9_])((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])/g,
    group: 1,
  },
  {
    id: 'anthropic-api-key',
    description: 'Anthropic API key',
    pattern: /(?<![A-Za-z0-9_-])(sk-ant-[a-z]+\d\d-[A-Za-z0-9_-]{32,200})(?![A-Za-z0-9_-])/g,
    group: 1,
  },
  {
    id: 'slack-token',
    description: 'Slack token',
    pattern: /(?<![A-Za-z0-9_-])(xox[abposr]-[0-9A-Za-z-]{10,250})(?![A-Za-z0-9_-])/g,
    group: 1,
  },
  {
    id: 'slack-webhook',
    description: 'Slack incoming webhook URL',
    pattern: /(https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9_/]{20,})/g,
    group: 1,
  },
  {
    id: 'sendgrid-api-key',
    description: 'SendGrid API key',
    pattern: /(?<![A-Za-z0-9_-])(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g,
    group: 1,
  },
  {
    id: 'npm-token',
    description: 'npm access token',
    pattern: /(?<![A-Za-z0-9_])(npm_[A-Za-z0-9]{36})(?![A-Za-z0-9_])/g,
    group: 1,
  },
  {
    id: 'npm-token',
    description: 'npm auth token in .npmrc',
    pattern: /_authToken\s*=\s*([A-Za-z0-9_./+=-]{20,})/g,
    group: 1,
    accept: (s) => !isPlaceholder(s),
  },
  {
    id: '1password-token',
    description: '1Password service account token',
    pattern: /(?<![A-Za-z0-9_])(ops_eyJ[A-Za-z0-9+/=_-]{40,})/g,
    group: 1,
  },
  {
    // Also database connection strings: the password between `user:` and `@`.
    id: 'basic-auth-url',
    description: 'Credentials in a URL',
    pattern: /[A-Za-z][A-Za-z0-9+.-]{1,20}:\/\/[^\s:@/'"`]+:([^\s@/'"`]{3,200})@/g,
    group: 1,
    accept: (s) => !isPlaceholder(s) && !s.startsWith(PLACEHOLDER_PREFIX),
  },
  {
    // `.env` and shell files: `API_TOKEN=value`, unquoted, which the generic rule (quoted literals) misses.
    id: 'env-credential',
    description: 'Credential assigned in an env or shell file',
    pattern:
      /^[ \t]*(?:export[ \t]+)?[A-Za-z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)[A-Za-z0-9_]*[ \t]*=[ \t]*([^\s"'`#]{8,200})[ \t]*$/gim,
    group: 1,
    accept: (s) =>
      !isPlaceholder(s) &&
      !s.startsWith(PLACEHOLDER_PREFIX) &&
      !s.includes('$') &&
      /[0-9]/.test(s) &&
      /[A-Za-z]/.test(s) &&
      shannonEntropy(s) >= 3,
  },
];

// secretlint reports these for the secrets step; a header alone is shown as is (a constant naming a
// PEM header is common and harmless), only a block with a body is a key.
const LINE_RULES = SUPPLEMENTARY_RULES.filter((rule) => rule.id !== 'private-key');
/** Rules whose name-driven pattern can backtrack on long runs of word characters: per line, like the scanner. */
const PER_LINE = new Set(['generic-credential', 'env-credential']);
const MAX_LINE = 4000;

export const REDACTION_RULES: readonly SecretRule[] = [...TOKEN_RULES, ...LINE_RULES];

/** A secret found in a text: where it is and which rule found it. Holds the value: never write it. */
export interface ContentSecret {
  rule: string;
  start: number;
  end: number;
  value: string;
}

// Every rule needs one of these words or marks; a text with none (most log lines) skips the table.
// Keep in step with the rules: a rule whose mark is missing here would never run.
const MARKS_CASED =
  /A3T|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|AIza|SK[0-9a-f]|gh[pousr]_|github_pat_|xox|SG\.|npm_|eyJ|:\/\/|sig=|gl[a-z]{2,5}-|_live_|sk-|pypi-|-----BEGIN/;
const MARKS_ANY_CASE = /pass|pwd|secret|token|key|credential|twilio/i;

/** Every secret the table finds in `text`, longest first where two overlap. */
export function findSecrets(text: string): ContentSecret[] {
  if (text.length < 8 || !(MARKS_CASED.test(text) || MARKS_ANY_CASE.test(text))) return [];
  const found: ContentSecret[] = [];
  for (const rule of REDACTION_RULES) {
    if (PER_LINE.has(rule.id)) {
      let offset = 0;
      for (const line of text.split('\n')) {
        if (line.length <= MAX_LINE) collect(rule, line, offset, found);
        offset += line.length + 1;
      }
    } else {
      collect(rule, text, 0, found);
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: ContentSecret[] = [];
  for (const f of found) {
    const last = kept[kept.length - 1];
    if (last && f.start < last.end) continue;
    kept.push(f);
  }
  return kept;
}

function collect(rule: SecretRule, text: string, offset: number, out: ContentSecret[]): void {
  rule.pattern.lastIndex = 0;
  for (const m of text.matchAll(rule.pattern)) {
    const value = m[rule.group];
    if (!value) continue;
    const at = (m.index ?? 0) + (rule.group === 0 ? 0 : m[0].indexOf(value));
    if (rule.accept && !rule.accept(value, lineAround(text, at))) continue;
    out.push({ rule: rule.id, start: offset + at, end: offset + at + value.length, value });
  }
}

function lineAround(text: string, at: number): string {
  const from = text.lastIndexOf('\n', at) + 1;
  const to = text.indexOf('\n', at);
  return text.slice(from, to < 0 ? text.length : to);
}

/** `text` with every secret the table finds replaced by `[REDACTED:<rule>]`. */
export function redactSecretsInText(text: string): string {
  const found = findSecrets(text);
  if (found.length === 0) return text;
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + placeholderFor(f.rule);
    at = f.end;
  }
  return out + text.slice(at);
}

/** True when `text` holds a placeholder this module wrote. */
export function hasRedactions(text: string): boolean {
  return text.includes(PLACEHOLDER_PREFIX);
}

/**
 * The model saw the repository with its secrets replaced by placeholders, so its patch quotes them
 * that way: put the real values back where that is unambiguous (the files the patch touches hold
 * exactly one value for the placeholder's rule), so context lines match and unchanged code keeps its
 * value. A placeholder with no or several candidates is left for the applier to refuse or the
 * repair round to fix.
 */
export function restoreRedactions(patch: string, originals: string[]): string {
  if (!hasRedactions(patch)) return patch;
  const byRule = new Map<string, Set<string>>();
  for (const text of originals) {
    for (const s of findSecrets(text)) {
      const values = byRule.get(s.rule) ?? new Set<string>();
      values.add(s.value);
      byRule.set(s.rule, values);
    }
  }
  return patch.replace(/\[REDACTED:([a-z0-9-]+)\]/g, (whole, rule: string) => {
    const values = byRule.get(rule);
    return values && values.size === 1 ? [...values][0] : whole;
  });
}
