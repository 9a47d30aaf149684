// The agent's trajectory read back from a task's audit trail: its model calls and, for each, the
// tool calls with their (capped, redacted) arguments and results, in the order they were made.
import { readFile } from 'node:fs/promises';
import { auditFile } from './paths.js';

export interface TrajectoryCall {
  round: number;
  turn: number;
  tool: string;
  arguments: string;
  result: string;
  ok: boolean;
  ts: string;
}

export interface Trajectory {
  /** Model calls made by the agent. */
  turns: number;
  /** Tool calls, by tool. */
  toolCalls: Record<string, number>;
  calls: TrajectoryCall[];
}

/** Null when the task has no audit trail; a trajectory with no calls when the agent did not run. */
export async function readTrajectory(stateDir: string, taskId: string): Promise<Trajectory | null> {
  let text: string;
  try {
    text = await readFile(auditFile(stateDir, taskId), 'utf8');
  } catch {
    return null;
  }
  const trajectory: Trajectory = { turns: 0, toolCalls: {}, calls: [] };
  for (const line of text.split('\n')) {
    if (!line.includes('"agent.')) continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a torn last line of a killed run
    }
    if (event.type === 'agent.turn') trajectory.turns += 1;
    if (event.type !== 'agent.tool') continue;
    const call: TrajectoryCall = {
      round: Number(event.round),
      turn: Number(event.turn),
      tool: String(event.tool),
      arguments: String(event.arguments ?? ''),
      result: String(event.result ?? ''),
      ok: event.ok === true,
      ts: String(event.ts ?? ''),
    };
    trajectory.calls.push(call);
    trajectory.toolCalls[call.tool] = (trajectory.toolCalls[call.tool] ?? 0) + 1;
  }
  return trajectory;
}
