// `run --sarif`: the lint diagnostics and secret findings as a SARIF 2.1.0 log, checked against the
// shape code scanning requires (version, one run per tool with a named driver, results with a rule,
// a level, a message and repository-relative locations with 1-based lines).
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { sarifLog } from '../../src/cli/sarif.js';
import type { TaskResult } from '../../src/task/run-task.js';

const region = z.strictObject({ startLine: z.int().positive(), startColumn: z.int().positive().optional() });
const location = z.strictObject({
  physicalLocation: z.strictObject({
    artifactLocation: z.strictObject({ uri: z.string().regex(/^[^/\\][^\\]*$/), uriBaseId: z.literal('%SRCROOT%') }),
    region: region.optional(),
  }),
});
const result = z.strictObject({
  ruleId: z.string().min(1),
  level: z.enum(['none', 'note', 'warning', 'error']),
  message: z.strictObject({ text: z.string().min(1) }),
  baselineState: z.enum(['new', 'unchanged', 'updated', 'absent']),
  locations: z.array(location).min(1).optional(),
});
const sarifShape = z.strictObject({
  $schema: z.string().url(),
  version: z.literal('2.1.0'),
  runs: z.array(
    z.strictObject({
      tool: z.strictObject({
        driver: z.strictObject({
          name: z.string().min(1),
          version: z.string(),
          rules: z.array(z.object({ id: z.string().min(1) })),
        }),
      }),
      results: z.array(result),
    }),
  ),
});

function taskResult(extra: Partial<TaskResult>): TaskResult {
  return { plan: { toolchain: 'rust' }, lint: null, secrets: null, ...extra } as TaskResult;
}

describe('sarifLog', () => {
  it('one run per tool: lint diagnostics new or unchanged, secrets with their redacted prefix only', () => {
    const log = sarifLog(
      taskResult({
        lint: {
          diagnostics: [
            {
              level: 'warning',
              code: 'clippy::needless_return',
              message: 'unneeded `return`',
              file: 'src/lib.rs',
              line: 5,
              column: 5,
              new: true,
            },
            {
              level: 'warning',
              code: 'clippy::needless_return',
              message: 'unneeded `return`',
              file: './src/old.rs',
              line: 9,
              column: null,
              new: false,
            },
            { level: 'error', code: null, message: 'could not compile', file: null, line: null, column: null, new: true },
          ],
        },
        secrets: { engine: 'gitleaks', findings: [{ rule: 'github-pat', file: 'src/config.rs', line: 3, redacted: 'ghp_****' }] },
      }),
    );
    expect(sarifShape.safeParse(log).error).toBeUndefined();
    expect(log.runs.map((r) => r.tool.driver.name)).toEqual(['autodev lint (rust)', 'autodev secrets (gitleaks)']);
    const [lint, secrets] = log.runs;
    expect(lint.tool.driver.rules).toEqual([{ id: 'clippy::needless_return' }, { id: 'error' }]);
    expect(lint.results![0]).toEqual({
      ruleId: 'clippy::needless_return',
      level: 'warning',
      message: { text: 'unneeded `return`' },
      baselineState: 'new',
      locations: [
        { physicalLocation: { artifactLocation: { uri: 'src/lib.rs', uriBaseId: '%SRCROOT%' }, region: { startLine: 5, startColumn: 5 } } },
      ],
    });
    expect(lint.results![1].baselineState).toBe('unchanged');
    expect(lint.results![1].locations![0].physicalLocation!.artifactLocation!.uri).toBe('src/old.rs');
    expect(lint.results![2].locations).toBeUndefined();
    expect(secrets.results).toEqual([
      expect.objectContaining({
        ruleId: 'github-pat',
        level: 'error',
        message: { text: 'possible secret (github-pat) added by the change: ghp_****' },
      }),
    ]);
  });

  it('a run that neither linted nor scanned gives a valid log with no runs', () => {
    const log = sarifLog(taskResult({ plan: null }));
    expect(sarifShape.parse(log).runs).toEqual([]);
  });
});
