// The queue's own metrics, beside a worker's task metrics in its registry: how many jobs wait (read
// from BullMQ when scraped), how long tasks waited before a worker took them, and how many were run
// again after their worker stopped mid-task.
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../observe/metrics.js';

const WAIT_BUCKETS = [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600];

export interface QueueMetrics {
  waited(seconds: number): void;
  retried(): void;
}

export function addQueueMetrics(metrics: Metrics, counts: () => Promise<Record<string, number>>): QueueMetrics {
  const registers = [metrics.registry];
  new Gauge({
    name: 'autodev_queue_depth',
    help: 'Tasks in the queue by state (waiting, delayed, active), when scraped.',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      const all = await counts().catch(() => null);
      if (!all) return;
      for (const state of ['waiting', 'delayed', 'active', 'prioritized']) this.set({ state }, all[state] ?? 0);
    },
  });
  const wait = new Histogram({
    name: 'autodev_queue_wait_seconds',
    help: 'Time a task waited in the queue before a worker first started it.',
    buckets: WAIT_BUCKETS,
    registers,
  });
  const retries = new Counter({
    name: 'autodev_queue_retries_total',
    help: 'Tasks started again after the worker running them stopped mid-task (killed, or handed back on SIGTERM).',
    registers,
  });
  return {
    waited: (seconds) => wait.observe(Math.max(0, seconds)),
    retried: () => retries.inc(),
  };
}
