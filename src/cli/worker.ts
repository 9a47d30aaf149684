// `autodev worker --queue redis://host:port`: runs the queue's tasks (src/queue/worker.ts) until
// SIGTERM or SIGINT, then takes no new task, gives running ones `queue.shutdown_grace_secs` to finish,
// hands the rest back to the queue and exits 0. Its /metrics (labelled with the worker's name),
// /healthz and /readyz listen on --port.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/load.js';
import { stateDir } from '../observe/paths.js';
import { escapeControls } from '../observe/progress-plain.js';
import { openTracing } from '../observe/tracing.js';
import { openTaskQueue } from '../queue/queue.js';
import { defaultWorkerName, startQueueWorker } from '../queue/worker.js';
import { createReadiness, healthRoute } from '../server/health.js';
import { isLoopback } from '../server/http.js';
import { ExitCode, UsageError } from '../util/errors.js';
import type { CliIo } from './index.js';

export interface WorkerFlags {
  queue?: string;
  concurrency: string;
  port: string;
  host: string;
  name?: string;
  config?: string;
  sandbox?: 'docker' | 'podman' | 'bwrap' | 'none';
}

export async function workerCommand(flags: WorkerFlags, io: CliIo): Promise<number> {
  const concurrency = Number(flags.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    throw new UsageError(`--concurrency ${flags.concurrency}: a whole number from 1 to 64`);
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${flags.port}: a port number (0-65535)`);
  if (flags.name !== undefined && !/^[\w.-]{1,64}$/.test(flags.name))
    throw new UsageError(`--name ${flags.name}: letters, digits, '.', '_' and '-' (at most 64)`);
  const loaded = await loadConfig({ cwd: io.cwd, env: io.env, configFile: flags.config, flags: { sandbox: flags.sandbox } });
  for (const warning of loaded.warnings) io.stderr.write(`autodev: warning: ${warning}\n`);
  const { config } = loaded;
  const url = flags.queue ?? config.queue.url;
  if (!url) throw new UsageError('autodev worker needs a queue', 'give --queue redis://host:port, or set queue.url in the config');
  const name = flags.name ?? defaultWorkerName();
  const log = (line: string): void => void io.stderr.write(`autodev worker ${name}: ${escapeControls(line)}\n`);
  const queue = await openTaskQueue(url, config, flags.queue ? '--queue' : 'queue.url');
  if (!(await queue.ping())) {
    await queue.close();
    throw new UsageError(`cannot reach the queue's Redis at ${queue.target.shown}`, 'start redis-server, or check --queue');
  }
  const tracing = await openTracing(io.env, 'autodev-worker');
  const worker = await startQueueWorker({
    queue,
    config,
    env: io.env,
    stateDir: stateDir(io.env),
    concurrency,
    name,
    tracing,
    log,
  });
  const readiness = createReadiness({ config, env: io.env, redis: () => queue.ping() });
  // Metrics and probes only: nothing here changes a task, so it needs no token, but it binds loopback unless told.
  const http = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    void (async () => {
      if (await healthRoute(req, res, pathname, readiness)) return;
      if (pathname === '/metrics' && (req.method ?? 'GET') === 'GET') {
        const text = await worker.metrics.text();
        res.writeHead(200, { 'content-type': worker.metrics.registry.contentType });
        res.end(text);
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found\n');
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, flags.host, () => resolve());
    });
  } catch (error) {
    await worker.stop(0);
    await queue.close();
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot listen on ${flags.host}:${port}: ${code ?? (error as Error).message}`, 'choose another --port');
  }
  const address = http.address() as AddressInfo;
  const shown = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  if (!isLoopback(flags.host)) log(`warning: /metrics and the probes answer anyone who reaches ${shown}`);
  log(
    `taking tasks from ${queue.target.shown} (concurrency ${concurrency}; metrics ${shown}/metrics, probes ${shown}/healthz ${shown}/readyz${tracing ? '; tracing on' : ''})`,
  );

  const signal = await stopped;
  const grace = config.queue.shutdown_grace_secs;
  log(`${signal}: stopping: no new task; ${worker.running().length} running get ${grace}s to finish, then go back to the queue`);
  await worker.stop(grace * 1000);
  await new Promise<void>((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
  await queue.close();
  await tracing?.shutdown().catch(() => undefined);
  log('stopped');
  return ExitCode.ok;
}
