// `autodev serve`: loads the config once, guards the bind address, runs the REST server until
// SIGINT/SIGTERM. SIGUSR2 (sent by `autodev tasks cancel`) makes it look for cancel requests.
import { loadConfig } from '../config/load.js';
import { stateDir } from '../observe/paths.js';
import { escapeControls } from '../observe/progress-plain.js';
import { createAutodevServer } from '../server/server.js';
import { isLoopback } from '../server/http.js';
import { createTaskStore } from '../store/task-store.js';
import { ExitCode, UsageError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';
import type { CliIo } from './index.js';

export interface ServeFlags {
  port: string;
  host: string;
  config?: string;
  sandbox?: 'docker' | 'podman' | 'bwrap' | 'none';
  /** redis://host:port: enqueue for `autodev worker`s instead of running tasks here. */
  queue?: string;
}

export async function serveCommand(flags: ServeFlags, io: CliIo): Promise<number> {
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${flags.port}: a port number (0-65535)`);
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config, flags: { sandbox: flags.sandbox } });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const { config } = loaded;
  const tokenVariable = config.serve_token_env;
  const token = io.env[tokenVariable] || null;
  registerSecret(token);
  if (!isLoopback(flags.host) && token === null) {
    throw new UsageError(
      `refusing to serve on ${flags.host} without a token: anyone who reaches it could run code and open pull requests`,
      `set ${tokenVariable}, or bind 127.0.0.1`,
    );
  }
  if (token !== null && token.length < 16) throw new UsageError(`${tokenVariable} is too short: use at least 16 random characters`);
  const state = stateDir(io.env);
  const queueUrl = flags.queue ?? config.queue.url;
  // Loaded only with a queue: one machine needs neither BullMQ nor Redis.
  const fleet = queueUrl
    ? await (await import('../queue/queue.js')).openTaskQueue(queueUrl, config, flags.queue ? '--queue' : 'queue.url')
    : null;
  if (fleet && !(await fleet.ping())) {
    await fleet.close();
    throw new UsageError(`cannot reach the queue's Redis at ${fleet.target.shown}`, 'start redis-server, or check --queue');
  }
  // With an OTLP endpoint: queued tasks' traces start here; tasks run here are traced here, as a worker's are.
  const tracing = await (await import('../observe/tracing.js')).openTracing(io.env, 'autodev-serve');
  const server = createAutodevServer({
    config,
    env: io.env,
    cwd: io.cwd,
    stateDir: state,
    store: fleet ? fleet.store : createTaskStore(state),
    queue: fleet,
    tracing,
    token,
    // Lines carry titles and reasons that came from outside: escaped, none can forge a line of its own.
    log: (line) => io.stderr.write(`autodev serve: ${escapeControls(line)}\n`),
  });
  // Installed before any task names this process as its owner: SIGUSR2's default action is to exit.
  const onUsr2 = (): void => {
    server
      .checkCancels()
      .catch((error: Error) => io.stderr.write(`autodev serve: cancel check failed: ${escapeControls(error.message)}\n`));
  };
  process.on('SIGUSR2', onUsr2);
  // Ctrl-C is a clean stop from the moment the server exists, including while it listens and recovers.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  let url: string;
  try {
    url = await server.listen(port, flags.host);
  } catch (error) {
    process.off('SIGUSR2', onUsr2);
    await fleet?.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot listen on ${flags.host}:${port}: ${code ?? (error as Error).message}`,
      code === 'EADDRINUSE' ? 'choose another --port' : undefined,
    );
  }
  io.stderr.write(
    `autodev serve: listening on ${url} (API ${url}/api/v1/autodev/tasks, metrics ${url}/metrics; ${token ? `bearer token from ${tokenVariable}` : 'no token'}; ${fleet ? `tasks go to the workers through ${fleet.target.shown}` : `up to ${config.max_parallel_tasks} task(s) at once`})\n`,
  );
  await server.recover();

  const signal = await stopped;
  io.stderr.write(`autodev serve: ${signal}: stopping (running tasks go back to the queue for the next start)\n`);
  await server.close();
  process.off('SIGUSR2', onUsr2);
  await fleet?.close();
  await tracing?.shutdown().catch(() => undefined);
  return ExitCode.ok;
}
