// `run` loads prom-client only once the task has started (deferredMetrics): the events that come
// before it has loaded wait, and are counted exactly as if the metrics had been there from the start.
import { describe, expect, it } from '@jest/globals';
import { deferredMetrics } from '../../src/cli/run-task.js';
import { createMetrics, type Metrics } from '../../src/observe/metrics.js';
import { scripter } from '../observe/helpers.js';

/** The text exposition without its timestamps-free header lines' order mattering: sorted sample lines. */
function samples(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .sort();
}

function feed(metrics: Metrics): void {
  const t = scripter('t', Date.parse('2026-01-01T00:00:00Z'));
  metrics.subscriber(t.status('pending'));
  metrics.subscriber(t.status('planning'));
  metrics.subscriber(t.finished('clone', 'ok', 1500));
  metrics.subscriber(t.usage(1000, 200, 0.01));
  metrics.subscriber(t.finished('build', 'failed', 3000, { tool: 'build' }));
  metrics.subscriber(t.finished('build', 'ok', 2000, { round: 1 }));
  metrics.subscriber(t.status('verified'));
}

describe('deferredMetrics', () => {
  it('starts loading at the first event, not before, and counts the events that waited like the ones after', async () => {
    let calls = 0;
    let release: (metrics: Metrics) => void = () => undefined;
    const deferred = deferredMetrics(() => {
      calls += 1;
      return new Promise<Metrics>((resolve) => (release = resolve));
    });
    expect(calls).toBe(0);
    const t = scripter('t', Date.parse('2026-01-01T00:00:00Z'));
    deferred.subscriber(t.status('pending'));
    deferred.subscriber(t.status('planning'));
    expect(calls).toBe(1);
    expect(() => deferred.registry).toThrow(/still loading/);
    release(createMetrics());
    // Events after the load go straight through; the rest of the same task.
    deferred.subscriber(t.finished('clone', 'ok', 1500));
    const text = await deferred.text();
    deferred.subscriber(t.usage(1000, 200, 0.01));
    deferred.subscriber(t.finished('build', 'failed', 3000, { tool: 'build' }));
    deferred.subscriber(t.finished('build', 'ok', 2000, { round: 1 }));
    deferred.subscriber(t.status('verified'));
    await deferred.subscriber.close();
    expect(calls).toBe(1);
    expect(text).toContain('autodev_tasks_total 1');

    const direct = createMetrics();
    feed(direct);
    await direct.subscriber.close();
    expect(samples(await deferred.text())).toEqual(samples(await direct.text()));
    // The registry is the loaded one, as writeTextfile and pushToGateway read it.
    expect(await deferred.registry.getSingleMetricAsString('autodev_tasks_success_total')).toContain('autodev_tasks_success_total 1');
  });

  it('loads prom-client through the real module by default', async () => {
    const deferred = deferredMetrics();
    deferred.subscriber(scripter('x').status('planning'));
    expect(samples(await deferred.text())).toContain('autodev_tasks_total 1');
  });
});
