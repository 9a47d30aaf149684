// The token formats secretlint's recommended preset does not cover (or deliberately ignores), as
// data. secretlint handles GitHub, Slack (tokens and webhooks), OpenAI, Anthropic, SendGrid, npm,
// private-key blocks, GCP service-account JSON, AWS secret keys next to their name, basic auth in
// URLs and database connection strings; see ./builtin.ts.

export interface SecretRule {
  id: string;
  description: string;
  /** Matched against one added line at a time. Must be global (`g`). */
  pattern: RegExp;
  /** Capture group holding the secret (0 = the whole match). */
  group: number;
  /** Extra check on the captured secret, for rules whose pattern alone is too loose. */
  accept?: (secret: string, line: string) => boolean;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(text: string): number {
  if (text.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// Values that are obviously not a real credential: templating, env lookups, documentation fillers.
const PLACEHOLDER_SHAPES: RegExp[] = [
  /^\$\{[^}]*\}$/, // ${VAR}
  /^\$\(.*\)$/, // $(command)
  /^\$[A-Za-z_][A-Za-z0-9_]*$/, // $VAR
  /^%\(?[A-Za-z_][A-Za-z0-9_]*\)?s?%?$/, // %VAR% / %(name)s
  /^\{\{.*\}\}$/, // {{ var }}
  /^<[^>]*>$/, // <your-key>
  /^\[[^\]]*\]$/, // [REDACTED]
  /^(.)\1+$/, // xxxxxxxx, ********
];
const PLACEHOLDER_WORDS =
  /changeme|change_me|change-me|example|placeholder|dummy|sample|redacted|your[_-]?|my[_-]?(?:secret|password|token|key)|insert|replace|fake|test|xxxx|\*\*\*|todo|secret_here|here$/i;
const ENV_LOOKUP =
  /process\.env|import\.meta\.env|os\.environ|os\.getenv|getenv\(|env::var|std::env|ENV\[|System\.getenv|Deno\.env|config\.get\(/;

/** True for values that look like a placeholder rather than a credential. */
export function isPlaceholder(value: string): boolean {
  if (PLACEHOLDER_SHAPES.some((re) => re.test(value))) return true;
  return PLACEHOLDER_WORDS.test(value);
}

/**
 * A generic `password = "..."` is only reported when the literal looks machine-made: long enough,
 * letters and digits, high entropy, and no placeholder or env lookup nearby.
 */
function acceptGenericCredential(secret: string, line: string): boolean {
  if (secret.length < 12 || /\s/.test(secret)) return false;
  if (isPlaceholder(secret) || ENV_LOOKUP.test(line)) return false;
  if (!/[0-9]/.test(secret) || !/[A-Za-z]/.test(secret)) return false;
  // Paths, URLs without credentials, dotted identifiers and kebab names are configuration, not secrets.
  if (/^(?:\.{0,2}\/|[a-z]+:\/\/[^@]*$)/.test(secret)) return false;
  if (/^[a-z0-9]+(?:[._-][a-z0-9]+)+$/.test(secret) && shannonEntropy(secret) < 4) return false;
  return shannonEntropy(secret) >= 3.5;
}

const CREDENTIAL_NAME =
  '[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|auth[_-]?key|client[_-]?secret|private[_-]?key|credentials?)[A-Za-z0-9_.-]*';

export const SUPPLEMENTARY_RULES: SecretRule[] = [
  {
    id: 'aws-access-key-id',
    description: 'AWS access key id',
    pattern: /(?<![A-Z0-9])((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16})(?![A-Z0-9])/g,
    group: 1,
  },
  {
    // secretlint has this rule but skips AWS's documented example key, which we treat as a leak
    // like any other: a generated patch has no business writing it into code.
    id: 'aws-secret-access-key',
    description: 'AWS secret access key',
    pattern:
      /(?:aws|AWS|Aws)?_?(?:secret|SECRET|Secret)_?(?:access|ACCESS|Access)?_?(?:key|KEY|Key)["']?\s*(?::=|=>|=|:)\s*["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/g,
    group: 1,
    accept: (s) => /[0-9]/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s),
  },
  {
    id: 'gcp-api-key',
    description: 'Google Cloud / Firebase API key',
    pattern: /(?<![A-Za-z0-9_-])(AIza[0-9A-Za-z_-]{35})(?![A-Za-z0-9_-])/g,
    group: 1,
  },
  {
    id: 'azure-storage-connection-string',
    description: 'Azure storage connection string with an account key',
    pattern: /DefaultEndpointsProtocol=https?;AccountName=[A-Za-z0-9]+;AccountKey=([A-Za-z0-9+/]{86}==)/g,
    group: 1,
  },
  {
    id: 'azure-storage-account-key',
    description: 'Azure storage account key',
    pattern:
      /(?:AccountKey|account_key|accountKey|AZURE_STORAGE_KEY|azure_storage_key|AZURE_STORAGE_ACCOUNT_KEY)["']?\s*(?:=|:)\s*["']?([A-Za-z0-9+/]{86}==)/g,
    group: 1,
  },
  {
    id: 'azure-sas-token',
    description: 'Azure shared access signature',
    pattern: /[?&]sv=\d{4}-\d{2}-\d{2}&[^\s"']*?(?:&|\?)sig=([A-Za-z0-9%+/=]{30,})/g,
    group: 1,
  },
  {
    id: 'gitlab-token',
    description: 'GitLab personal, deploy, runner or OAuth token',
    pattern: /(?<![A-Za-z0-9_-])((?:glpat|gldt|glrt|gloas|glptt|glsoat|glcbt)-[0-9A-Za-z_-]{20,})(?![A-Za-z0-9_-])/g,
    group: 1,
  },
  {
    id: 'stripe-live-key',
    description: 'Stripe live secret or restricted key',
    pattern: /(?<![A-Za-z0-9_])((?:sk|rk)_live_[0-9A-Za-z]{24,247})(?![A-Za-z0-9_])/g,
    group: 1,
  },
  {
    id: 'twilio-api-key',
    description: 'Twilio API key',
    pattern: /(?<![A-Za-z0-9])(SK[0-9a-f]{32})(?![A-Za-z0-9])/g,
    group: 1,
  },
  {
    id: 'twilio-auth-token',
    description: 'Twilio auth token',
    pattern: /twilio[A-Za-z0-9_.-]*(?:auth)?[_.-]?token["']?\s*(?::=|=>|=|:)\s*["']?([0-9a-f]{32})(?![0-9a-f])/gi,
    group: 1,
  },
  {
    id: 'pypi-token',
    description: 'PyPI upload token',
    pattern: /(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})/g,
    group: 1,
  },
  {
    id: 'openai-api-key',
    description: 'OpenAI API key',
    // secretlint needs the `T3BlbkFJ` marker of newer keys; older project keys were plain.
    pattern: /(?<![A-Za-z0-9_-])(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{40,200})(?![A-Za-z0-9_-])/g,
    group: 1,
    accept: (s) => !s.startsWith('sk-ant-') && /[0-9]/.test(s) && /[A-Z]/.test(s) && /[a-z]/.test(s) && shannonEntropy(s) >= 4,
  },
  {
    id: 'jwt',
    description: 'JSON Web Token',
    pattern: /(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})(?![A-Za-z0-9_-])/g,
    group: 1,
  },
  {
    id: 'private-key',
    description: 'Private key block',
    // secretlint only reports a complete block with 100+ characters of body; a patch that adds
    // just the header plus a short or truncated key is still a leak.
    pattern: /(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)\s*$/g,
    group: 1,
  },
  {
    id: 'generic-credential',
    description: 'Hard-coded credential assigned to a password/secret/token/api key name',
    pattern: new RegExp(`(?<![A-Za-z0-9])${CREDENTIAL_NAME}["']?\\s*(?::=|=>|==|=|:)\\s*(?:[rbf]|@)?(["'\`])([^"'\`\\n]{8,200})\\1`, 'gi'),
    group: 2,
    accept: acceptGenericCredential,
  },
];
