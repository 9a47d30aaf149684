// `autodev review <PR>` and `autodev ci-fix <PR>`: a follow-up task on a pull request autodev opened,
// run like `autodev run` (same gates, same output), then answered on the pull request.
import { stateDir } from '../observe/paths.js';
import { ExitCode } from '../util/errors.js';
import type { CliIo } from './index.js';
import type { RunFlags } from './run.js';

export interface FollowupFlags {
  json?: boolean;
  config?: string;
  force?: boolean;
  repo?: string;
  sandbox?: RunFlags['sandbox'];
  metricsFile?: string;
}

export async function followupCommand(kind: 'review' | 'ci-fix', pr: string, flags: FollowupFlags, io: CliIo): Promise<number> {
  const [{ loadConfig }, { createForge }, { registerSecret }, { createTaskStore }, followup] = await Promise.all([
    import('../config/load.js'),
    import('../ports/forge.js'),
    import('../util/redact.js'),
    import('../store/task-store.js'),
    import('../task/followup.js'),
  ]);
  const ref = followup.parsePullArg(pr, '<PR>');
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config, flags: { sandbox: flags.sandbox } });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const { config } = loaded;
  const token = io.env[config.git.github_token_env] || null;
  registerSecret(token);
  const forge = createForge({ baseUrl: config.git.github_api_url, token });
  const common = {
    ref,
    config,
    env: io.env,
    cwd: io.cwd,
    store: createTaskStore(stateDir(io.env)),
    forge,
    force: flags.force,
    repo: flags.repo,
  };
  let plan: { kind: 'run'; request: import('../config/request.js').TaskRequest; cloneUrl?: string } | { kind: string; message: string };
  if (kind === 'review') {
    const { prepareReview } = await import('../task/review.js');
    const prepared = await prepareReview(common);
    if (prepared.kind === 'run')
      io.stderr.write(`autodev: addressing ${prepared.threads} review thread(s) and ${prepared.reviews} review(s)\n`);
    plan = prepared;
  } else {
    const { prepareCiFix, reportOnBase } = await import('../task/ci-fix.js');
    const prepared = await prepareCiFix(common);
    if (prepared.onBase.length > 0) {
      io.stderr.write(`autodev: failing on the base branch too, not chased: ${prepared.onBase.join(', ')}\n`);
      for (const warning of await reportOnBase(forge, ref, prepared.onBase)) io.stderr.write(`autodev: warning: ${warning}\n`);
    }
    if (prepared.kind === 'run') io.stderr.write(`autodev: fixing ${prepared.chased.map((f) => f.name).join(', ')}\n`);
    plan = prepared;
  }
  if (plan.kind !== 'run' || !('request' in plan)) {
    const message = 'message' in plan ? plan.message : '';
    if (flags.json) io.stdout.write(`${JSON.stringify({ status: plan.kind, message }, null, 2)}\n`);
    else io.stdout.write(`${message}\n`);
    // Nothing to do is fine; a failure that came back is the follow-up giving up.
    return plan.kind === 'stop' ? ExitCode.failed : ExitCode.ok;
  }
  const { request, cloneUrl } = plan;
  const { runTaskCommand } = await import('./run-task.js');
  return runTaskCommand({
    request,
    loaded,
    flags: { json: flags.json, metricsFile: flags.metricsFile },
    io,
    ...(cloneUrl ? { cloneUrl } : {}),
    after: (result) => followup.finishFollowup({ request, result, forge }),
  });
}
