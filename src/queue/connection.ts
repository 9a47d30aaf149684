// The one way to reach the queue's Redis: BullMQ, imported on first use only (a machine without a
// queue never loads it), and its Redis client, which the task store, the locks and the limits reuse
// so every part of the fleet speaks to Redis through the same well-kept driver.
import type * as BullMq from 'bullmq';
import { UsageError } from '../util/errors.js';

export type Bull = typeof BullMq;

/** The BullMQ queue every serve enqueues to and every worker takes from. */
export const QUEUE_NAME = 'autodev-tasks';
/** Prefix of autodev's own keys (task records, locks, limits), beside BullMQ's `bull:` keys. */
export const KEY_PREFIX = 'autodev';

let loaded: Promise<Bull> | null = null;

export function loadBull(): Promise<Bull> {
  loaded ??= import('bullmq');
  return loaded;
}

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls?: Record<string, never>;
  /** The URL without its password: what messages and `tasks list` show. */
  shown: string;
}

/** `redis://[user:pass@]host[:port][/db]` → connection options; anything else is a usage error naming `flag`. */
export function parseRedisUrl(url: string, flag = '--queue'): RedisTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${flag} ${url}: not a URL`, 'give redis://host:port');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`${flag} ${url}: not a redis:// URL`, 'give redis://host:port');
  }
  if (!parsed.hostname) throw new UsageError(`${flag} ${url}: no host`, 'give redis://host:port');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`${flag} ${url}: the path must be a database number`);
  const shownUrl = new URL(parsed.href);
  shownUrl.password = '';
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : 6379,
    db: db === '' ? 0 : Number(db),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    shown: shownUrl.href.replace(/\/$/, ''),
  };
}

/**
 * BullMQ's connection options for a target. `maxRetriesPerRequest: null` is what BullMQ requires of a
 * worker's blocking connection; a short connect timeout makes an unreachable Redis an error, not a hang.
 */
export function connectionOf(target: RedisTarget): BullMq.ConnectionOptions {
  const { shown: _shown, ...rest } = target;
  return { ...rest, maxRetriesPerRequest: null, connectTimeout: 5_000, retryStrategy } as BullMq.ConnectionOptions;
}

/** Set once Redis has answered in this process: from then on a lost connection is retried for ever. */
let everConnected = false;

export function markConnected(): void {
  everConnected = true;
}

/**
 * ioredis's reconnect delays: a Redis that never answered gives up after about five seconds (a
 * process starting against a wrong URL says so and exits); one that answered before is retried for
 * ever, backing off to two seconds (a worker outlives a Redis restart).
 */
function retryStrategy(times: number): number | null {
  if (everConnected) return Math.min(times * 200, 2_000);
  return times > 10 ? null : 500;
}

/**
 * Turns BullMQ's failure to find a Redis driver into the one line that says what to install; other
 * errors pass unchanged.
 */
export function driverError(error: unknown): unknown {
  const message = (error as Error)?.message ?? '';
  if (/Cannot find module 'ioredis'|ioredis/.test(message) && /find|install|resolve/i.test(message)) {
    return new UsageError('the queue needs the ioredis package, which BullMQ drives Redis with', 'npm install ioredis');
  }
  return error;
}
