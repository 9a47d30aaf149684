// Well-known FAKE credentials in every format the scanners know, built by concatenation so this
// source file itself does not look like it holds secrets to any scanner.

/** Deterministic pseudo-random characters, so tokens have realistic entropy without being real. */
export function fill(length: number, seed: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'): string {
  let x = seed >>> 0 || 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out += alphabet[x % alphabet.length];
  }
  return out;
}

const j = (...parts: string[]): string => parts.join('');
const HEX = '0123456789abcdef';

export interface PlantedToken {
  /** The rule id the scanner must report. */
  rule: string;
  /** The secret itself; must never appear in a finding. */
  secret: string;
  /** The line as it is written into a source file. */
  line: string;
  /** Extension of the file it is planted in. */
  ext: string;
}

function planted(rule: string, secret: string, line: (s: string) => string, ext = 'ts'): PlantedToken {
  return { rule, secret, line: line(secret), ext };
}

export const AWS_KEY_ID = j('AKIA', 'IOSFODNN7', 'EXAMPLE');
export const AWS_SECRET = j('wJalrXUtnFEMI/K7MDENG/', 'bPxRfiCYEXAMPLEKEY');
export const GITHUB_CLASSIC = j('gh', 'p_', fill(36, 11));

export const PLANTED: PlantedToken[] = [
  planted('aws-access-key-id', AWS_KEY_ID, (s) => `aws_access_key_id = ${s}`, 'ini'),
  planted('aws-secret-access-key', AWS_SECRET, (s) => `aws_secret_access_key = ${s}`, 'ini'),
  planted(
    'aws-secret-access-key',
    j('Zx9', fill(37, 12, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+')),
    (s) => `AWS_SECRET_ACCESS_KEY="${s}"`,
    'sh',
  ),
  planted('gcp-api-key', j('AI', 'za', 'SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY'), (s) => `const mapsKey = "${s}";`),
  planted(
    'azure-storage-connection-string',
    j('Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/', 'K1SZFPTOtr/KBHBeksoGMGw=='),
    (s) =>
      `STORAGE = "DefaultEndpoints${'Protocol'}=https;AccountName=devstoreaccount1;Account${'Key'}=${s};EndpointSuffix=core.windows.net"`,
    'py',
  ),
  planted(
    'azure-storage-account-key',
    j(fill(86, 13, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), '=='),
    (s) => `AZURE_STORAGE_KEY=${s}`,
    'env',
  ),
  planted('github-token', GITHUB_CLASSIC, (s) => `let token = "${s}";`, 'rs'),
  planted('github-token', j('gh', 'o_', fill(36, 14)), (s) => `oauth: '${s}'`, 'yml'),
  planted('github-token', j('gh', 'u_', fill(36, 15)), (s) => `user_token: '${s}'`, 'yml'),
  planted('github-token', j('gh', 's_', fill(36, 16)), (s) => `GH_APP="${s}"`, 'sh'),
  planted('github-token', j('gh', 'r_', fill(36, 17)), (s) => `refresh = "${s}"`, 'toml'),
  planted('github-token', j('github', '_pat_', fill(22, 18), '_', fill(59, 19)), (s) => `const pat = "${s}";`),
  planted('gitlab-token', j('gl', 'pat-', fill(20, 20)), (s) => `GITLAB_TOKEN=${s}`, 'env'),
  planted('slack-token', j('xo', 'xb-', '2631456789012-', '1234567890123-', fill(24, 21)), (s) => `slack_bot = "${s}"`, 'py'),
  planted(
    'slack-webhook',
    j('https://hooks.slack', '.com/services/', 'T00000000/B00000000/', 'XXXXXXXXXXXXXXXXXXXXXXXX'),
    (s) => `WEBHOOK = "${s}"`,
    'py',
  ),
  planted('stripe-live-key', j('sk', '_live_', '4eC39HqLyjWDarjtT1zdp7dc'), (s) => `Stripe.apiKey = "${s}";`, 'java'),
  planted('stripe-live-key', j('rk', '_live_', fill(24, 22)), (s) => `STRIPE_RESTRICTED=${s}`, 'env'),
  planted('openai-api-key', j('sk-', 'proj-', fill(74, 23), 'T3Blbk', 'FJ', fill(74, 24)), (s) => `OPENAI_API_KEY="${s}"`, 'sh'),
  planted('openai-api-key', j('sk-', fill(48, 25)), (s) => `openai.api_key = "${s}"`, 'py'),
  planted(
    'anthropic-api-key',
    j('sk-', 'ant-', 'api03-', fill(93, 26), 'AA'),
    (s) => `const anthropic = new Anthropic({ apiKey: "${s}" });`,
  ),
  planted('twilio-api-key', j('S', 'K', fill(32, 27, HEX)), (s) => `TWILIO_API_KEY=${s}`, 'env'),
  planted('twilio-auth-token', fill(32, 28, HEX), (s) => `twilio_auth_token = "${s}"`, 'py'),
  planted('sendgrid-api-key', j('S', 'G.', fill(22, 29), '.', fill(43, 30)), (s) => `sgMail.setApiKey("${s}");`, 'js'),
  planted('npm-token', j('np', 'm_', fill(36, 31)), (s) => `//registry.npmjs.org/:_authToken=${s}`, 'txt'),
  planted('pypi-token', j('py', 'pi-', 'AgEIcHlwaS5vcmc', fill(60, 32)), (s) => `password = ${s}`, 'cfg'),
  planted(
    'jwt',
    j(
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9',
      '.',
      'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ',
      '.',
      'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
    ),
    (s) => `headers.set("Authorization", "Bearer ${s}");`,
  ),
  planted('generic-credential', j('Xk9', 'mP2vL7qR4wZt8'), (s) => `db_password = "${s}"`, 'py'),
  planted('generic-credential', j('Qz7', fill(21, 33)), (s) => `    client_secret: "${s}",`, 'rs'),
  planted('database-connection-string', j('S3cr', 'etPw0rd99'), (s) => `DATABASE_URL=postgres://app:${s}@db.internal:5432/app`, 'env'),
];

/** A PEM private key block (body is random base64: not a key, but shaped like one). */
export function privateKeyBlock(kind = 'RSA'): { lines: string[]; header: string } {
  const header = j('-----BEGIN ', kind, ' PRIVATE', ' KEY-----');
  const footer = j('-----END ', kind, ' PRIVATE', ' KEY-----');
  const body = [0, 1, 2, 3].map((i) => fill(64, 40 + i, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'));
  return { lines: [header, ...body, footer], header };
}

/** A GCP service account key file, as `gcloud iam service-accounts keys create` writes it. */
export function gcpServiceAccountJson(): string {
  const key = privateKeyBlock('').lines.join('\n').replace('BEGIN  ', 'BEGIN ').replace('END  ', 'END ');
  return JSON.stringify(
    {
      type: 'service_account',
      project_id: 'autodev-fake',
      [j('private', '_key_id')]: fill(40, 50, HEX),
      [j('private', '_key')]: key + '\n',
      client_email: 'bot@autodev-fake.iam.gserviceaccount.com',
      client_id: '123456789012345678901',
    },
    null,
    2,
  );
}
