// A real redis-server (Debian's) for the queue tests: started on a free loopback port with its own
// temp dir and no persistence, ready once it answers PING, stopped (and waited for) by `stop()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { closedPort } from './http-util.js';
import { makeTempDir } from './fixture-repo.js';
import { until } from './poll.js';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const REDIS_SERVER = process.env.REDIS_SERVER ?? '/usr/bin/redis-server';

/** Sends one inline command and resolves with the first reply line (null when nothing answers). */
export function redisCommand(port: number, command: string): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(2_000);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) {
        socket.end();
        resolve(reply.split('\r\n')[0]);
      }
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(null);
    });
    socket.on('error', () => resolve(null));
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await closedPort();
  const dir = await makeTempDir('autodev-redis-');
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  await until(
    () => `redis-server on port ${port} to answer PING; its output:\n${output}`,
    async () => {
      if (gone) throw new Error(`redis-server exited:\n${output}`);
      return (await redisCommand(port, 'PING')) === '+PONG';
    },
    30_000,
    50,
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (!gone) child.kill('SIGKILL');
      await exited;
    },
  };
}
