// The built-in scanner: secretlint's recommended rules plus our table (./rules.ts) for what the
// preset lacks, over the lines a patch adds. Used when gitleaks is not installed.

import { extname } from 'node:path';
import type { SecretLintCoreConfig } from '@secretlint/types';
import { redactFindingText } from '../util/redact.js';
import type { AddedLine } from './added-lines.js';
import { SUPPLEMENTARY_RULES } from './rules.js';
import type { Finding } from './types.js';

// `secretlint-disable` comments would let a generated patch silence the scan of itself.
const SKIPPED_SECRETLINT_RULES = new Set(['@secretlint/secretlint-rule-filter-comments']);

/**
 * secretlint and its preset, loaded on the first scan: a run whose secrets step uses gitleaks (or
 * never gets there) does not pay for them at start-up.
 */
let secretlint: Promise<{ lintSource: typeof import('@secretlint/core').lintSource; config: SecretLintCoreConfig }> | null = null;

function loadSecretlint(): NonNullable<typeof secretlint> {
  secretlint ??= Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]).then(
    ([core, preset]) => ({
      lintSource: core.lintSource,
      config: {
        rules: preset.rules
          .filter((rule) => !SKIPPED_SECRETLINT_RULES.has(rule.meta.id))
          .map((rule) => ({
            id: rule.meta.id,
            rule,
            // AWS access key ids are reported by our own rule, which does not skip the documented example.
            options: {},
          })),
      },
    }),
  );
  return secretlint;
}

// Our ids and words for secretlint's message ids; anything new in a later preset falls back to a
// kebab-case id of its own.
const SECRETLINT_MESSAGES: Record<string, { rule: string; description: string }> = {
  AWSSecretAccessKey: { rule: 'aws-secret-access-key', description: 'AWS secret access key' },
  AWSAccountID: { rule: 'aws-account-id', description: 'AWS account id' },
  AWSAccessKeyID: { rule: 'aws-access-key-id', description: 'AWS access key id' },
  PrivateKeyJSON: { rule: 'gcp-service-account-key', description: 'GCP service account private key (JSON)' },
  PrivateKeyP12: { rule: 'gcp-service-account-key', description: 'GCP service account private key (p12)' },
  PrivateKey: { rule: 'private-key', description: 'Private key block' },
  NPM_ACCESS_TOKEN: { rule: 'npm-token', description: 'npm access token' },
  SLACK_TOKEN: { rule: 'slack-token', description: 'Slack token' },
  IncomingWebhook: { rule: 'slack-webhook', description: 'Slack incoming webhook URL' },
  BasicAuth: { rule: 'basic-auth-url', description: 'Credentials in a URL (basic auth)' },
  OPENAI_TOKEN: { rule: 'openai-api-key', description: 'OpenAI API key' },
  ANTHROPIC_API_KEY: { rule: 'anthropic-api-key', description: 'Anthropic API key' },
  LINEAR_API_TOKEN: { rule: 'linear-api-key', description: 'Linear API key' },
  SENDGRID_KEY: { rule: 'sendgrid-api-key', description: 'SendGrid API key' },
  SHOPIFY_KEY: { rule: 'shopify-token', description: 'Shopify access token' },
  GITHUB_TOKEN: { rule: 'github-token', description: 'GitHub token' },
  OPS_TOKEN: { rule: '1password-token', description: '1Password service account token' },
  PackageJSON_xOauthToken: { rule: 'github-token', description: 'GitHub token in a package.json URL' },
  Npmrc_authToken: { rule: 'npm-token', description: 'npm auth token in .npmrc' },
  MongoDBConnection: { rule: 'database-connection-string', description: 'MongoDB connection string with a password' },
  MySQLConnection: { rule: 'database-connection-string', description: 'MySQL connection string with a password' },
  PostgreSQLConnection: { rule: 'database-connection-string', description: 'PostgreSQL connection string with a password' },
};

function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/_/g, '-')
    .toLowerCase();
}

interface Located extends Finding {
  /** Column range on the line, to drop a second rule's report of the same text. */
  start: number;
  end: number;
}

function groupByFile(lines: AddedLine[]): Map<string, AddedLine[]> {
  const byFile = new Map<string, AddedLine[]>();
  for (const l of lines) {
    const list = byFile.get(l.file) ?? [];
    list.push(l);
    byFile.set(l.file, list);
  }
  return byFile;
}

function tableFindings(lines: AddedLine[]): Located[] {
  const out: Located[] = [];
  for (const added of lines) {
    // Minified or generated lines are not where a hand-written secret hides, and cost regex time.
    if (added.text.length > 4000) continue;
    for (const rule of SUPPLEMENTARY_RULES) {
      rule.pattern.lastIndex = 0;
      for (const m of added.text.matchAll(rule.pattern)) {
        const secret = m[rule.group];
        if (!secret) continue;
        if (rule.accept && !rule.accept(secret, added.text)) continue;
        const start = (m.index ?? 0) + m[0].indexOf(secret);
        out.push({
          rule: rule.id,
          description: rule.description,
          file: added.file,
          line: added.line,
          redacted: redactFindingText(secret),
          start,
          end: start + secret.length,
        });
      }
    }
  }
  return out;
}

async function secretlintFindings(file: string, lines: AddedLine[]): Promise<Located[]> {
  // The added lines of one file, joined: contiguous additions (a new file, a PEM block) keep the
  // multi-line context secretlint's rules need; offsets map back to the new file's line numbers.
  const content = lines.map((l) => l.text).join('\n');
  const lineStarts: number[] = [];
  let offset = 0;
  for (const l of lines) {
    lineStarts.push(offset);
    offset += l.text.length + 1;
  }
  const { lintSource, config } = await loadSecretlint();
  const result = await lintSource({
    // Some rules pick their checks by extension (GCP key files are `.json`); core does not derive it.
    source: { filePath: file, ext: extname(file), content, contentType: 'text' },
    options: { config, maskSecrets: true, noPhysicFilePath: true, locale: 'en' },
  });
  const out: Located[] = [];
  for (const msg of result.messages) {
    const [from, to] = msg.range;
    let idx = 0;
    while (idx + 1 < lineStarts.length && lineStarts[idx + 1] <= from) idx++;
    const known = msg.messageId ? SECRETLINT_MESSAGES[msg.messageId] : undefined;
    const shortRule = msg.ruleId.replace('@secretlint/secretlint-rule-', '');
    const lineEnd = lineStarts[idx] + lines[idx].text.length;
    out.push({
      rule: known?.rule ?? kebab(msg.messageId ?? shortRule),
      description: known?.description ?? `secretlint ${shortRule} rule`,
      file,
      line: lines[idx].line,
      redacted: redactFindingText(content.slice(from, Math.min(to, lineEnd))),
      start: from - lineStarts[idx],
      end: Math.min(to, lineEnd) - lineStarts[idx],
    });
  }
  return out;
}

function overlaps(a: Located, b: Located): boolean {
  return a.file === b.file && a.line === b.line && a.start < b.end && b.start < a.end;
}

/** Scan added lines with secretlint's recommended rules and our supplementary table. */
export async function scanAddedLines(lines: AddedLine[]): Promise<Finding[]> {
  const located: Located[] = [];
  for (const [file, fileLines] of groupByFile(lines)) {
    located.push(...(await secretlintFindings(file, fileLines)));
  }
  located.push(...tableFindings(lines));
  const kept: Located[] = [];
  for (const f of located) {
    if (!kept.some((k) => overlaps(k, f))) kept.push(f);
  }
  kept.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.start - b.start);
  return kept.map(({ start: _s, end: _e, ...finding }) => finding);
}
