import { describe, expect, it } from '@jest/globals';
import { findSecrets, redactSecretsInText, restoreRedactions } from '../../src/secrets/redact-content.js';
import { AWS_KEY_ID, AWS_SECRET, GITHUB_CLASSIC, PLANTED, gcpServiceAccountJson, privateKeyBlock } from './fake-tokens.js';

describe('redaction by content', () => {
  it.each(PLANTED.map((p) => [p.rule, p] as const))('replaces a %s in a line of code and keeps the rest', (_rule, planted) => {
    const out = redactSecretsInText(`before\n${planted.line}\nafter`);
    expect(out).not.toContain(planted.secret);
    expect(out).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
    expect(out.startsWith('before\n')).toBe(true);
    expect(out.endsWith('\nafter')).toBe(true);
  });

  it('replaces a whole PEM private key block, also inside a JSON key file, and leaves a lone header constant alone', () => {
    const pem = privateKeyBlock().lines.join('\n');
    const out = redactSecretsInText(`let key = r"${pem}";\n`);
    expect(out).toBe('let key = r"[REDACTED:private-key]";\n');
    const json = gcpServiceAccountJson();
    const body = privateKeyBlock('').lines[1];
    expect(json).toContain(body);
    expect(redactSecretsInText(json)).not.toContain(body);
    const header = privateKeyBlock().header;
    const constant = `const PEM_HEADER: &str = "${header}";\nfn main() {}\n`;
    expect(redactSecretsInText(constant)).toBe(constant);
  });

  it('leaves ordinary code that talks about tokens, hashes and placeholders alone', () => {
    const code = `use std::env;
const TOKEN_HEADER: &str = "x-auth-token";
let api_key = env::var("API_KEY")?;
let expected = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
export const commitSha = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3';
password = "changeme"
api_key = "\${API_KEY}"
token = "{{ github_token }}"
url = "https://example.com/path?x=1"
db = "postgres://app@localhost/app"
`;
    expect(findSecrets(code)).toEqual([]);
    expect(redactSecretsInText(code)).toBe(code);
  });

  it('replaces unquoted credentials of .env files, not their placeholders or plain settings', () => {
    const value = ['Zk4', 'rT9qW2', 'mX7vB1'].join('');
    const env = `# app settings\nDB_PASSWORD=${value}\nexport API_TOKEN=${value}\nTOKEN_TTL=3600\nSECRET_KEY=changeme\nAPI_KEY=\${API_KEY}\nLOG_LEVEL=debug\n`;
    expect(redactSecretsInText(env)).toBe(
      '# app settings\nDB_PASSWORD=[REDACTED:env-credential]\nexport API_TOKEN=[REDACTED:env-credential]\nTOKEN_TTL=3600\nSECRET_KEY=changeme\nAPI_KEY=${API_KEY}\nLOG_LEVEL=debug\n',
    );
  });

  it('is idempotent: redacted text has nothing left to find', () => {
    const once = redactSecretsInText(PLANTED.map((p) => p.line).join('\n'));
    expect(redactSecretsInText(once)).toBe(once);
  });

  it('costs little on a long line without secrets (a minified bundle)', () => {
    const line = `var a=${'x_y.z-'.repeat(50_000)};`;
    expect(redactSecretsInText(line)).toBe(line);
  });
});

describe('restoring the placeholders a model quoted', () => {
  const original = `const ID: &str = "${AWS_KEY_ID}";\nconst SECRET_KEY: &str = "${AWS_SECRET}";\npub fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n`;

  it('puts back the one value of each rule the touched files hold', () => {
    const shown = redactSecretsInText(original);
    expect(shown).not.toContain(AWS_KEY_ID);
    const patch = `--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,4 +1,4 @@\n${shown
      .split('\n')
      .slice(0, 3)
      .map((l) => ` ${l}`)
      .join('\n')}\n-    a - b\n+    a + b\n`;
    const restored = restoreRedactions(patch, [original]);
    expect(restored).toContain(` const ID: &str = "${AWS_KEY_ID}";`);
    expect(restored).not.toContain('[REDACTED:aws-access-key-id]');
  });

  it('leaves a placeholder with no or several candidate values as it is', () => {
    const patch = '+let t = "[REDACTED:github-token]";\n+let k = "[REDACTED:aws-access-key-id]";\n';
    const two = `${original}const OTHER: &str = "${['AKIA', 'Q4RT7YUI', 'OP2ASD9F'].join('')}";\n`;
    expect(restoreRedactions(patch, [two])).toBe(patch);
    expect(restoreRedactions(patch, [`let t = "${GITHUB_CLASSIC}";`])).toBe(patch.replace('[REDACTED:github-token]', GITHUB_CLASSIC));
  });
});
