// One process-wide registry of secret values (tokens from config and env), scrubbed from everything
// the tool writes: logs, PR bodies, JSON output, the audit trail. Secrets are registered once, at the
// boundary where they enter, so no writer has to know which values are sensitive. What nobody
// registered but looks like a credential (a key in the repository, one the model wrote) is replaced
// by content, with the secrets step's own rule table (../secrets/redact-content.ts).
import { redactSecretsInText } from '../secrets/redact-content.js';

const MASK = '***';
/** Shorter values would mask ordinary words and numbers all over the output. */
const MIN_SECRET_LENGTH = 6;

const secrets = new Set<string>();
let pattern: RegExp | null = null;

/** Every form in which a secret commonly leaks: as is, base64, URL-encoded, and git's basic auth. */
function variants(secret: string): string[] {
  const forms = new Set<string>([secret]);
  const b64 = Buffer.from(secret, 'utf8').toString('base64');
  forms.add(b64);
  // Padding depends on what follows the secret in a longer encoded string; the unpadded prefix still leaks.
  forms.add(b64.replace(/=+$/, ''));
  forms.add(Buffer.from(secret, 'utf8').toString('base64url'));
  forms.add(encodeURIComponent(secret));
  // Percent-encoding is case-insensitive in the hex digits; some clients emit lowercase.
  forms.add(encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  // `Authorization: Basic base64("x-access-token:<token>")` is how git talks to GitHub with a token.
  for (const user of ['x-access-token', 'oauth2', 'git']) {
    forms.add(Buffer.from(`${user}:${secret}`, 'utf8').toString('base64'));
    forms.add(Buffer.from(`${user}:${secret}`, 'utf8').toString('base64').replace(/=+$/, ''));
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function compile(): RegExp | null {
  const all = new Set<string>();
  for (const s of secrets) for (const v of variants(s)) all.add(v);
  if (all.size === 0) return null;
  // Longest first, so a secret that contains another is masked whole.
  const sorted = [...all].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
}

/** Remember a value that must never be written anywhere. Values shorter than 6 characters are ignored. */
export function registerSecret(value: string | null | undefined): void {
  if (typeof value !== 'string') return;
  const trimmed = value.trim();
  if (trimmed.length < MIN_SECRET_LENGTH || secrets.has(trimmed)) return;
  secrets.add(trimmed);
  pattern = compile();
}

/** Forget every registered secret (tests, and a server that handles one task after another). */
export function clearSecrets(): void {
  secrets.clear();
  pattern = null;
}

/**
 * Replace every registered secret, in any of its common encodings, with `***`, and every value that
 * looks like a credential with `[REDACTED:<rule>]`.
 */
export function redact(text: string): string {
  if (text.length === 0) return text;
  return redactSecretsInText(pattern === null ? text : text.replace(pattern, MASK));
}

/**
 * A deep copy of a JSON-like value with every string (keys included) redacted. Errors become
 * `{name, message, stack}`; cycles become "[Circular]" so an audit record can always be written.
 */
export function redactDeep<T>(value: T): T {
  return walk(value, new WeakSet()) as T;
}

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => walk(v, seen));
    if (value instanceof Error) {
      return { name: value.name, message: redact(value.message), stack: value.stack ? redact(value.stack) : undefined };
    }
    if (value instanceof Date) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redact(k)] = walk(v, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

// Well-known token prefixes say what leaked without saying the secret; longest first.
const KNOWN_PREFIXES = [
  'github_pat_',
  'sk-ant-api03-',
  'sk-ant-',
  'sk-proj-',
  'sk-svcacct-',
  'sk-admin-',
  'sk_live_',
  'rk_live_',
  'sk_test_',
  'pypi-',
  'glpat-',
  'npm_',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'xoxb-',
  'xoxp-',
  'xoxa-',
  'xoxr-',
  'xoxs-',
  'xapp-',
  'AKIA',
  'ASIA',
  'AIza',
  'SG.',
  'eyJ',
  'sk-',
];

/**
 * Mask a detected secret for display, keeping only enough to tell what kind it is:
 * `ghp_****`, `AKIA****`, `-----BEGIN RSA PRIVATE KEY-----****`. Unknown shapes keep at most
 * 3 characters, and short values keep none.
 */
export function redactFindingText(secret: string): string {
  const text = secret.trim();
  const header = /^-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----/.exec(text);
  if (header) return `${header[0]}****`;
  for (const prefix of KNOWN_PREFIXES) {
    // Only when the prefix is a small part of the value; otherwise the "prefix" is the secret.
    if (text.startsWith(prefix) && text.length >= prefix.length * 2 + 4) return `${prefix}****`;
  }
  if (text.length < 12) return '****';
  return `${text.slice(0, 3).replace(/\s/g, '')}****`;
}

/**
 * For text from a tool that may quote a secret we never registered (a scanner's error output):
 * `redact`, then mask every long token-like word down to its prefix.
 */
export function redactTokenLike(text: string): string {
  return redact(text).replace(/[A-Za-z0-9_\-+/=.]{20,}/g, (word) => redactFindingText(word));
}
