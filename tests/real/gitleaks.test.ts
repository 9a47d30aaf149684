// The secrets step against the real gitleaks, as .ci/run builds it (pinned, from the Go module proxy):
// found on PATH, it scans what the change adds; a token on an added line denies the task with the
// secret redacted, one already in the file before the change is not the change's doing.
import { afterEach, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import type { Ctx } from '../../src/steps/types.js';
import { initialState } from '../../src/steps/types.js';
import { secretsTool } from '../../src/steps/secrets.js';
import { builtVersion, goTool } from '../support/go-tools.js';
import { GITHUB_CLASSIC } from '../secrets/fake-tokens.js';
import { ProcessExec } from '../secrets/process-exec.js';
import { TempRepo } from '../secrets/temp-repo.js';

let repo: TempRepo | null = null;
afterEach(() => {
  repo?.cleanup();
  repo = null;
});

/** The step's context: the plan asked for gitleaks, whose directory is on the step's PATH. */
function ctx(dir: string, diff: string): Ctx {
  const state = initialState(dir);
  state.change = { branch: 'autodev/x', commit: 'c', diff, files: [] };
  const exec = new ProcessExec(`${path.dirname(goTool('gitleaks'))}${path.delimiter}${process.env.PATH ?? ''}`);
  return {
    step: {
      id: 'secrets',
      tool: 'secrets',
      title: 'secrets',
      sandbox: null,
      network: false,
      timeoutSecs: 120,
      retries: 0,
      inputs: { engine: 'gitleaks' },
    },
    state,
    ports: { exec },
    signal: new AbortController().signal,
    emit: () => undefined,
  } as unknown as Ctx;
}

describe('the secrets step with the real gitleaks', () => {
  it('is gitleaks v8.30.1, the version .ci/run pins', () => {
    expect(builtVersion(goTool('gitleaks'))).toBe('v8.30.1');
  });

  it('denies a change that adds a GitHub token, with the finding redacted and the diff withheld', async () => {
    repo = new TempRepo({ 'src/client.ts': 'export const url = "https://api.github.com";\n' });
    repo.write({ 'src/client.ts': `export const url = "https://api.github.com";\nexport const token = "${GITHUB_CLASSIC}";\n` });
    const context = ctx(repo.dir, repo.diff());
    const result = await secretsTool.run(context);

    expect(result.status).toBe('denied');
    expect(context.state.secrets?.engine).toBe('gitleaks');
    expect(context.state.secrets?.warnings).toEqual([]);
    expect(context.state.secrets?.findings).toEqual([expect.objectContaining({ rule: 'github-pat', file: 'src/client.ts', line: 2 })]);
    expect(JSON.stringify(result)).not.toContain(GITHUB_CLASSIC);
    expect(JSON.stringify(context.state)).not.toContain(GITHUB_CLASSIC);
    expect(context.state.change?.diff).toMatch(/^\(withheld/);
  });

  it('passes a change whose only token was there before it (not an added line)', async () => {
    // gitleaks sees the whole changed file, token included (the test above shows it finds this one).
    repo = new TempRepo({ 'src/client.ts': `export const token = "${GITHUB_CLASSIC}";\n` });
    repo.write({ 'src/client.ts': `export const token = "${GITHUB_CLASSIC}";\nexport const retries = 3;\n` });
    const context = ctx(repo.dir, repo.diff());
    const result = await secretsTool.run(context);
    expect(result).toMatchObject({ status: 'ok', summary: 'no secrets found (gitleaks)' });
  });
});
