import { afterEach, describe, expect, it } from '@jest/globals';
import { scanPatch } from '../../src/secrets/scan.js';
import { isPlaceholder, shannonEntropy } from '../../src/secrets/rules.js';
import { TempRepo } from './temp-repo.js';

let repo: TempRepo | null = null;
afterEach(() => {
  repo?.cleanup();
  repo = null;
});

const RUST = `use std::env;
use sha2::{Digest, Sha256};

/// Reads credentials from the environment; nothing is hard-coded.
pub struct Config {
    pub api_key: String,
    pub token_ttl_secs: u64,
    pub password_hash: String,
}

const TOKEN_HEADER: &str = "x-auth-token";
const PRIVATE_KEY_PEM_HEADER: &str = "-----BEGIN PRIVATE KEY-----";
const SECRET_PATH: &str = "/etc/app/secret.toml";

impl Config {
    pub fn from_env() -> Result<Self, env::VarError> {
        let api_key = env::var("API_KEY")?;
        let password = std::env::var("DB_PASSWORD").unwrap_or_default();
        let token = format!("{}:{}", api_key, 42);
        Ok(Config { api_key: token, token_ttl_secs: 3600, password_hash: hash(&password) })
    }
}

fn hash(password: &str) -> String {
    let digest = Sha256::digest(password.as_bytes());
    format!("{:x}", digest)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_hex() {
        let expected = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        assert_eq!(super::hash("test"), expected);
        let password = "hunter2";
        assert!(!password.is_empty());
    }
}
`;

const TS = `import { createHash, randomBytes } from 'node:crypto';

export interface Credentials { token: string; apiKey: string; password?: string }

const SECRET_HEADER = 'x-autodev-secret';
const tokenizer = 'bert-base-uncased-v2';
const password_min_length = 12;

export function loadCredentials(env: NodeJS.ProcessEnv): Credentials {
  const token = env.GITHUB_TOKEN ?? '';
  const apiKey = process.env.OPENAI_API_KEY ?? '';
  return { token, apiKey, password: env['DB_PASSWORD'] };
}

export function newSessionToken(): string {
  return randomBytes(32).toString('hex');
}

export const commitSha = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
export const integrity = 'sha512-' + createHash('sha512').update('x').digest('base64');
const task = { title: 'skip-tokenize-step-for-binary-inputs', secretName: 'my-app-db-credentials' };
`;

const PLACEHOLDERS = `# Fill these in; never commit the real values.
password = "changeme"
api_key = "\${API_KEY}"
secret = "<your-secret-here>"
token = "{{ github_token }}"
client_secret = "%CLIENT_SECRET%"
db_password = "$DB_PASSWORD"
auth_token: "xxxxxxxxxxxxxxxxxxxxxxxx"
access_key = "your_access_key_1234"
PASSWORD = "REPLACE_WITH_PASSWORD_123"
api_key = "example-key-0123456789abcdef"
aws_secret_access_key = os.environ["AWS_SECRET_ACCESS_KEY"]
token = os.getenv("TOKEN_V2", "dev-token-123456789")
`;

describe('no false positives', () => {
  it('reports nothing on ordinary Rust and TypeScript code that talks about tokens and passwords', async () => {
    repo = new TempRepo({ 'Cargo.toml': '[package]\nname = "x"\n' });
    repo.write({ 'src/config.rs': RUST, 'src/credentials.ts': TS });
    const result = await scanPatch(repo.diff());
    expect(result.findings).toEqual([]);
  });

  it('reports nothing on obvious placeholders and env lookups', async () => {
    repo = new TempRepo();
    repo.write({ 'config/settings.example.env': PLACEHOLDERS });
    const result = await scanPatch(repo.diff());
    expect(result.findings).toEqual([]);
  });

  it('still reports a high-entropy literal assigned to the same names', async () => {
    const literal = ['R7q', 'Lm2', 'Zp9', 'Xw4', 'Tk8'].join('');
    repo = new TempRepo();
    repo.write({ 'settings.py': `api_key = "${literal}"\n` });
    const result = await scanPatch(repo.diff());
    expect(result.findings).toEqual([
      { rule: 'generic-credential', description: expect.any(String), file: 'settings.py', line: 1, redacted: 'R7q****' },
    ]);
  });
});

describe('placeholder and entropy helpers', () => {
  it('knows the usual placeholder shapes', () => {
    for (const p of ['changeme', '${TOKEN}', '$TOKEN', '<your-key>', '{{ key }}', '%KEY%', '********', 'your_api_key_here']) {
      expect({ p, placeholder: isPlaceholder(p) }).toEqual({ p, placeholder: true });
    }
    expect(isPlaceholder(['R7q', 'Lm2', 'Zp9', 'Xw4'].join(''))).toBe(false);
  });

  it('measures entropy in bits per character', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy('')).toBe(0);
  });
});
