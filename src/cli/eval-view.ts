// The terminal view of `autodev eval`: listr2 runs the jobs, `concurrency` at a time, one row per
// (task, model) with a spinner while it runs and its category when done, under a header that counts
// what is done, running and failed, and what it cost so far. Drawn on stderr; stdout keeps the figures.
import type { EvalJob, Scheduler } from '../eval/run.js';

interface TitledTask {
  title: string;
  skip(message?: string): void;
  newListr(tasks: unknown[], options: unknown): unknown;
}

export async function listrScheduler(stream: NodeJS.WriteStream): Promise<Scheduler> {
  const { DefaultRenderer, Listr, ListrLogger, ProcessOutput } = await import('listr2');
  const logger = new ListrLogger({ processOutput: new ProcessOutput(stream, stream), useIcons: true });
  // listr2 picks its default renderer only when stdout is a terminal; this view draws on stderr, which the caller checked.
  class StreamRenderer extends DefaultRenderer {
    static override nonTTY = true;
  }
  return async (jobs: EvalJob[], concurrency: number) => {
    const counts = { done: 0, running: 0, failed: 0, cost: 0 };
    let header: TitledTask | null = null;
    const headline = (): string =>
      `eval: ${counts.done}/${jobs.length} done, ${counts.running} running, ${counts.failed} not resolved, $${counts.cost.toFixed(4)}`;
    const rows = jobs.map((job) => ({
      title: `${job.task} ${job.model}`,
      task: async (_ctx: unknown, task: TitledTask) => {
        counts.running += 1;
        if (header) header.title = headline();
        try {
          const { outcome, skipped } = await job.run();
          if (skipped) {
            task.skip(`${job.task} ${job.model}: not run (${skipped})`);
            return;
          }
          if (outcome) {
            counts.done += 1;
            counts.cost += outcome.usage.costUsd ?? 0;
            if (outcome.category !== 'resolved') counts.failed += 1;
            task.title = `${job.task} ${job.model}: ${outcome.category} in ${(outcome.wallMs / 1000).toFixed(1)}s`;
          }
        } finally {
          counts.running -= 1;
          if (header) header.title = headline();
        }
      },
    }));
    const list = new Listr(
      [
        {
          title: headline(),
          task: (_ctx: unknown, task: TitledTask) => {
            header = task;
            return task.newListr(rows, { concurrent: concurrency, exitOnError: false });
          },
        },
      ] as never,
      {
        renderer: StreamRenderer as never,
        rendererOptions: { logger, collapseSubtasks: false } as never,
        fallbackRenderer: 'simple',
        fallbackRendererCondition: false,
        exitOnError: false,
        registerSignalListeners: false,
      },
    );
    await list.run();
  };
}
