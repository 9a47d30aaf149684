// secrets: gitleaks when installed, the built-in rules otherwise, over what the change adds. Any
// finding stops the task here (no OPA decision can override it); findings are kept redacted.
import { scanPatch } from '../secrets/index.js';
import { inputsOf, type SecretsInputs } from '../plan/types.js';
import type { StepTool } from './types.js';

export const secretsTool: StepTool = {
  name: 'secrets',
  async run(ctx) {
    const change = ctx.state.change;
    if (!change) return { status: 'failed', summary: 'no change to scan' };
    const useGitleaks = inputsOf<SecretsInputs>(ctx.step).engine === 'gitleaks';
    const result = await scanPatch(change.diff, {
      exec: ctx.ports.exec,
      useGitleaks,
      dir: ctx.state.repoDir,
      signal: ctx.signal,
      timeoutMs: ctx.step.timeoutSecs * 1000,
    });
    ctx.state.secrets = { engine: result.engine, findings: result.findings, warnings: result.warnings };
    for (const warning of result.warnings) ctx.emit({ type: 'log', level: 'warn', message: warning });
    const data = { engine: result.engine, findings: result.findings };
    if (result.findings.length) {
      // Findings never hold the secret, so nothing downstream could redact it: the diff that holds it
      // must not reach the task result (--json prints `change.diff`).
      ctx.state.change = { ...change, diff: `(withheld: the change holds ${result.findings.length} possible secret(s))` };
      const where = result.findings.slice(0, 3).map((f) => `${f.rule} in ${f.file}:${f.line} (${f.redacted})`);
      return {
        status: 'denied',
        summary: `secrets_found: ${result.findings.length} possible secret(s): ${where.join('; ')}`,
        data: { ...data, reasons: [{ code: 'secrets_found', message: `${result.findings.length} possible secret(s) in the change` }] },
      };
    }
    return { status: 'ok', summary: `no secrets found (${result.engine})`, data };
  },
};
