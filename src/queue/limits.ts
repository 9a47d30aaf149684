// Limits shared by every worker of a fleet, kept in Redis so they hold across machines. BullMQ's open
// source edition has no per-group concurrency, so each is a small Lua script (atomic in Redis):
//
// - a counting semaphore per repository (a sorted set of holders scored by expiry: a worker that dies
//   holding it frees it when its lease runs out; the live holder renews it while its task runs);
// - a token bucket for model calls across the fleet (`queue.model_calls_per_minute`);
// - the day's model spend (`queue.daily_cost_usd`), added to after each call and read before each
//   task and each call.
import { createHash } from 'node:crypto';
import type { ScriptClient } from '../store/redis-store.js';

const ACQUIRE = `redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[1])
if redis.call('zscore', KEYS[1], ARGV[3]) then
  redis.call('zadd', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
redis.call('zadd', KEYS[1], ARGV[2], ARGV[3])
redis.call('pexpire', KEYS[1], ARGV[5])
return 1`;

const RELEASE = `return redis.call('zrem', KEYS[1], ARGV[1])`;

// Token bucket: capacity = rate per minute, refilled continuously. Returns 0 when a token was taken,
// else the milliseconds until one will be there.
const TAKE = `local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local state = redis.call('hmget', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or rate
local at = tonumber(state[2]) or now
tokens = math.min(rate, tokens + (now - at) * rate / 60000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 60000 / rate) end
redis.call('hset', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('pexpire', KEYS[1], 120000)
return wait`;

const SPEND = `local total = redis.call('incrbyfloat', KEYS[1], ARGV[1])
redis.call('expire', KEYS[1], 172800)
return total`;

const SPENT = `return redis.call('get', KEYS[1]) or '0'`;

export interface FleetLimits {
  /** Takes (or renews) a place among the repository's running tasks; false when all are taken. */
  acquireRepo(repo: string, holder: string, leaseMs: number): Promise<boolean>;
  releaseRepo(repo: string, holder: string): Promise<void>;
  /** Waits for a model call's token (no wait without `model_calls_per_minute`). */
  takeModelCall(signal?: AbortSignal): Promise<void>;
  /** Adds a call's cost to today's spend (UTC). */
  spend(usd: number): Promise<void>;
  /** Today's spend so far (UTC). */
  spentToday(): Promise<number>;
}

export function createFleetLimits(options: {
  client: ScriptClient;
  prefix: string;
  perRepo: number;
  modelCallsPerMinute: number;
}): FleetLimits {
  const { client, prefix } = options;
  const names = {
    acquire: 'autodevRepoAcquire',
    release: 'autodevRepoRelease',
    take: 'autodevModelTake',
    spend: 'autodevCostSpend',
    spent: 'autodevCostSpent',
  };
  client.defineCommand(names.acquire, { numberOfKeys: 1, lua: ACQUIRE });
  client.defineCommand(names.release, { numberOfKeys: 1, lua: RELEASE });
  client.defineCommand(names.take, { numberOfKeys: 1, lua: TAKE });
  client.defineCommand(names.spend, { numberOfKeys: 1, lua: SPEND });
  client.defineCommand(names.spent, { numberOfKeys: 1, lua: SPENT });

  // Repository names are URLs or paths: hashed, they make short keys with no odd characters.
  const repoKey = (repo: string): string => `${prefix}:repo:${createHash('sha256').update(repo).digest('hex').slice(0, 32)}`;
  const costKey = (): string => `${prefix}:cost:${new Date().toISOString().slice(0, 10)}`;

  return {
    async acquireRepo(repo, holder, leaseMs) {
      const now = Date.now();
      const got = await client.runCommand(names.acquire, [repoKey(repo), now, now + leaseMs, holder, options.perRepo, leaseMs * 2]);
      return got === 1;
    },
    async releaseRepo(repo, holder) {
      await client.runCommand(names.release, [repoKey(repo), holder]);
    },
    async takeModelCall(signal) {
      if (options.modelCallsPerMinute <= 0) return;
      for (;;) {
        signal?.throwIfAborted();
        const wait = Number(await client.runCommand(names.take, [`${prefix}:model-calls`, Date.now(), options.modelCallsPerMinute]));
        if (wait <= 0) return;
        signal?.throwIfAborted();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });
      }
    },
    async spend(usd) {
      if (!(usd > 0)) return;
      await client.runCommand(names.spend, [costKey(), usd]);
    },
    async spentToday() {
      return Number(await client.runCommand(names.spent, [costKey()]));
    },
  };
}
