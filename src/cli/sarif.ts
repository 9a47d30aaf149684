// `run --sarif <file>`: the lint diagnostics and secret findings of a task as SARIF 2.1.0, the format
// code-scanning services (GitHub's upload-sarif) read. One run per tool; a finding already on the
// base is `unchanged`, one the change added `new`. Secrets carry the redacted prefix only.
import type { Log, ReportingDescriptor, Result, Run } from 'sarif';
import type { TaskResult } from '../task/run-task.js';
import { version } from './version.js';

const SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

export function sarifLog(result: TaskResult): Log {
  const runs: Run[] = [];
  const toolchain = result.plan?.toolchain ?? null;
  if (result.lint) runs.push(lintRun(result.lint.diagnostics, toolchain));
  if (result.secrets) runs.push(secretsRun(result.secrets));
  return { $schema: SCHEMA, version: '2.1.0', runs };
}

function location(file: string | null, line: number | null, column: number | null): Result['locations'] {
  if (!file) return undefined;
  return [
    {
      physicalLocation: {
        artifactLocation: { uri: file.replace(/\\/g, '/').replace(/^\.\//, ''), uriBaseId: '%SRCROOT%' },
        ...(line && line > 0 ? { region: { startLine: line, ...(column && column > 0 ? { startColumn: column } : {}) } } : {}),
      },
    },
  ];
}

function lintRun(diagnostics: NonNullable<TaskResult['lint']>['diagnostics'], toolchain: string | null): Run {
  const rules = new Map<string, ReportingDescriptor>();
  const results: Result[] = diagnostics.map((d) => {
    const ruleId = d.code ?? (d.level === 'error' ? 'error' : 'warning');
    if (!rules.has(ruleId)) rules.set(ruleId, { id: ruleId });
    return {
      ruleId,
      level: d.level,
      message: { text: d.message },
      baselineState: d.new ? 'new' : 'unchanged',
      ...(d.file ? { locations: location(d.file, d.line, d.column) } : {}),
    };
  });
  return {
    tool: { driver: { name: `autodev lint${toolchain ? ` (${toolchain})` : ''}`, version: version(), rules: [...rules.values()] } },
    results,
  };
}

function secretsRun(secrets: NonNullable<TaskResult['secrets']>): Run {
  const rules = new Map<string, ReportingDescriptor>();
  const results: Result[] = secrets.findings.map((f) => {
    if (!rules.has(f.rule)) rules.set(f.rule, { id: f.rule, shortDescription: { text: `possible secret (${f.rule})` } });
    return {
      ruleId: f.rule,
      level: 'error',
      message: { text: `possible secret (${f.rule}) added by the change: ${f.redacted}` },
      baselineState: 'new',
      locations: location(f.file, f.line, null),
    };
  });
  return { tool: { driver: { name: `autodev secrets (${secrets.engine})`, version: version(), rules: [...rules.values()] } }, results };
}
