import { afterEach, describe, expect, it } from '@jest/globals';
import { scanPatch } from '../../src/secrets/scan.js';
import { addedLines } from '../../src/secrets/added-lines.js';
import { gcpServiceAccountJson, PLANTED, privateKeyBlock } from './fake-tokens.js';
import { TempRepo } from './temp-repo.js';

let repo: TempRepo | null = null;
afterEach(() => {
  repo?.cleanup();
  repo = null;
});

function expectNoRawSecret(serialized: string, secrets: string[]): void {
  for (const s of secrets) expect(serialized.includes(s)).toBe(false);
}

describe('built-in scanner over a real git diff', () => {
  it('finds every planted token format on the line the patch adds it, and never returns the secret', async () => {
    repo = new TempRepo({ 'src/app.ts': 'export const one = 1;\n' });
    // Each token goes into its own file, after two ordinary lines, so line numbers are checked too.
    const files: Record<string, string> = {};
    PLANTED.forEach((t, i) => {
      files[`planted/t${i}.${t.ext}`] = `// settings\nconst unrelated = ${i};\n${t.line}\n`;
    });
    repo.write(files);
    const result = await scanPatch(repo.diff());

    expect(result.engine).toBe('builtin');
    PLANTED.forEach((t, i) => {
      const hits = result.findings.filter((f) => f.file === `planted/t${i}.${t.ext}`);
      expect({ token: t.rule, rules: hits.map((h) => h.rule) }).toEqual({ token: t.rule, rules: expect.arrayContaining([t.rule]) });
      for (const h of hits) expect(h.line).toBe(3);
    });
    expectNoRawSecret(
      JSON.stringify(result),
      PLANTED.map((t) => t.secret),
    );
  });

  it('keeps a short, recognisable prefix in the redacted text', async () => {
    repo = new TempRepo();
    const gh = PLANTED.find((t) => t.secret.startsWith('gh' + 'p_'))!;
    const aws = PLANTED.find((t) => t.rule === 'aws-access-key-id')!;
    repo.write({ 'a.rs': `${gh.line}\n`, 'b.ini': `${aws.line}\n` });
    const { findings } = await scanPatch(repo.diff());
    expect(findings).toEqual([
      { rule: 'github-token', description: 'GitHub token', file: 'a.rs', line: 1, redacted: 'ghp_****' },
      { rule: 'aws-access-key-id', description: 'AWS access key id', file: 'b.ini', line: 1, redacted: 'AKIA****' },
    ]);
  });

  it('finds a private key block and a GCP service account key file', async () => {
    repo = new TempRepo({ 'src/lib.rs': 'pub fn f() {}\n' });
    const pem = privateKeyBlock('RSA');
    repo.write({ 'deploy/id_rsa': pem.lines.join('\n') + '\n', 'keys/sa.json': gcpServiceAccountJson() + '\n' });
    const { findings } = await scanPatch(repo.diff());
    const pemHit = findings.find((f) => f.file === 'deploy/id_rsa');
    expect(pemHit).toMatchObject({ rule: 'private-key', line: 1 });
    expect(pemHit!.redacted).toBe(pem.header + '****');
    expect(findings.filter((f) => f.file === 'keys/sa.json').map((f) => f.rule)).toContain('gcp-service-account-key');
    expectNoRawSecret(JSON.stringify(findings), pem.lines.slice(1, -1));
  });

  it('reports only added lines: a secret already in the base, or on a removed line, is not the change', async () => {
    const gh = PLANTED.find((t) => t.rule === 'github-token')!;
    const slack = PLANTED.find((t) => t.rule === 'slack-token')!;
    repo = new TempRepo({ 'config.py': `a = 1\n${gh.line}\nb = 2\n${slack.line}\n` });
    repo.write({ 'config.py': `a = 1\n${gh.line}\nb = 3\n` });
    const diff = repo.diff();
    expect(addedLines(diff)).toEqual([{ file: 'config.py', line: 3, text: 'b = 3' }]);
    const { findings } = await scanPatch(diff);
    expect(findings).toEqual([]);
  });

  it('cannot be silenced by a secretlint-disable comment in the patch', async () => {
    const gh = PLANTED.find((t) => t.rule === 'github-token')!;
    repo = new TempRepo();
    repo.write({ 'x.ts': `// secretlint-disable\n${gh.line}\n// secretlint-enable\n` });
    const { findings } = await scanPatch(repo.diff());
    expect(findings.map((f) => f.rule)).toEqual(['github-token']);
  });

  it('accepts already-extracted added lines', async () => {
    const aws = PLANTED.find((t) => t.rule === 'aws-access-key-id')!;
    const { findings } = await scanPatch([{ file: 'x.ini', line: 7, text: aws.line }]);
    expect(findings).toEqual([
      { rule: 'aws-access-key-id', description: 'AWS access key id', file: 'x.ini', line: 7, redacted: 'AKIA****' },
    ]);
  });
});
