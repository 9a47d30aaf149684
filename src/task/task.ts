// The task as shown in `--plan-only`, `--json` output, the store and the API.
import { randomBytes } from 'node:crypto';
import type { TaskRequest } from '../config/request.js';
import { taskKey } from '../plan/planner.js';
import { displayRepo } from '../util/display.js';

export interface TaskInfo {
  id: string;
  key: string;
  repo: string;
  title: string;
  description: string;
  base: string | null;
  risk: TaskRequest['risk'];
  pr: boolean;
  createdAt: string;
  issue?: TaskRequest['issue'];
}

export function newTaskId(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 12);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

export function taskInfo(id: string, request: TaskRequest, base: string | null): TaskInfo {
  return {
    id,
    key: taskKey(request),
    repo: displayRepo(request.repo),
    title: request.title,
    description: request.description,
    base,
    risk: request.risk,
    pr: !request.noPr,
    createdAt: new Date().toISOString(),
    ...(request.issue ? { issue: request.issue } : {}),
  };
}
