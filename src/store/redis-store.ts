// The task store in Redis, for a fleet: the same documents as the file store (one JSON string per
// task under `autodev:task:<id>`, a sorted set of ids by creation time for listing), so any `serve`
// or `autodev tasks --queue` sees every task whichever machine runs it.
//
// Writes are compare-and-set in one Lua script: read the document, apply the change, write it back
// only if nobody wrote in between, else read again. No lock is held across the caller's function, so
// a process killed mid-update leaves nothing to break, and two writers never lose each other's change.
import type { StoredTask, TaskStore } from './task-store.js';
import { isTaskId } from './task-store.js';

/** What the store needs of a Redis client: scripts (BullMQ's driver-neutral client has exactly this). */
export interface ScriptClient {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  runCommand(name: string, args: (string | number)[]): Promise<unknown>;
}

const CREATE = `if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('set', KEYS[1], ARGV[1])
redis.call('zadd', KEYS[2], ARGV[2], ARGV[3])
return 1`;

const SWAP = `local current = redis.call('get', KEYS[1])
if not current then return -1 end
if current ~= ARGV[1] then return 0 end
redis.call('set', KEYS[1], ARGV[2])
return 1`;

const GET = `return redis.call('get', KEYS[1])`;

// Ids newest first, then their documents, in one round trip (at most `limit` of them).
const LIST = `local ids = redis.call('zrevrange', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local out = {}
for i, id in ipairs(ids) do
  out[i] = redis.call('get', ARGV[1] .. id) or false
end
return out`;

/** Listing reads at most this many records (newest first): a fleet's history can be long. */
const LIST_LIMIT = 10_000;

export function createRedisTaskStore(options: { client: ScriptClient; prefix: string; shown: string }): TaskStore {
  const { client, prefix } = options;
  const index = `${prefix}:tasks`;
  const keyPrefix = `${prefix}:task:`;
  const names = { create: 'autodevTaskCreate', swap: 'autodevTaskSwap', get: 'autodevTaskGet', list: 'autodevTaskList' };
  client.defineCommand(names.create, { numberOfKeys: 2, lua: CREATE });
  client.defineCommand(names.swap, { numberOfKeys: 1, lua: SWAP });
  client.defineCommand(names.get, { numberOfKeys: 1, lua: GET });
  client.defineCommand(names.list, { numberOfKeys: 1, lua: LIST });

  function keyOf(id: string): string {
    if (!isTaskId(id)) throw new Error(`not a task id: ${JSON.stringify(id)}`);
    return `${keyPrefix}${id}`;
  }

  function parse(text: unknown): StoredTask | null {
    if (typeof text !== 'string') return null;
    try {
      return JSON.parse(text) as StoredTask;
    } catch {
      return null;
    }
  }

  async function getRaw(id: string): Promise<string | null> {
    const text = await client.runCommand(names.get, [keyOf(id)]);
    return typeof text === 'string' ? text : null;
  }

  return {
    dir: options.shown,
    fileOf: keyOf,
    async create(task) {
      const created = await client.runCommand(names.create, [
        keyOf(task.id),
        index,
        JSON.stringify(task),
        Date.parse(task.createdAt),
        task.id,
      ]);
      if (created !== 1) throw new Error(`task ${task.id} already exists`);
    },
    async get(id) {
      if (!isTaskId(id)) return null;
      return parse(await getRaw(id));
    },
    async list() {
      const texts = (await client.runCommand(names.list, [index, keyPrefix, LIST_LIMIT])) as unknown[];
      return texts.map(parse).filter((t): t is StoredTask => t !== null);
    },
    async update(id, mutate) {
      if (!isTaskId(id)) return null;
      for (;;) {
        const before = await getRaw(id);
        if (before === null) return null;
        const task = JSON.parse(before) as StoredTask;
        mutate(task);
        task.updatedAt = new Date().toISOString();
        const after = JSON.stringify(task);
        const swapped = await client.runCommand(names.swap, [keyOf(id), before, after]);
        if (swapped === 1) return task;
        if (swapped === -1) return null;
        // Someone wrote in between: apply the change again to what they wrote.
      }
    },
  };
}
