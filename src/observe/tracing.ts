// OpenTelemetry tracing, on only when the standard variables ask for it (OTEL_EXPORTER_OTLP_ENDPOINT
// or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and not OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none):
// then, and only then, the SDK and the OTLP/HTTP exporter are imported. The exporter reads the other
// standard variables itself (headers, timeout, protocol details).
//
// Spans come from the engine's events, like the metrics and the audit trail: one per task (from its
// first event to its result), one per step run (baseline, repair and retried runs each their own),
// and one per model call (around the call itself, so it has its real duration). A task's span is a
// child of the trace context it is given: the `serve` that queued it, through the job's data.
// Attributes are counts, names and codes; never a prompt, a diff, a URL's credentials or a key.
import type { Context, Span, Tracer } from '@opentelemetry/api';
import type { EngineEvent } from '../engine/types.js';
import type { ChatReply, ChatRequest, Llm } from '../ports/types.js';
import { makeSubscriber, type Subscriber } from './types.js';

type Env = Record<string, string | undefined>;
type Api = typeof import('@opentelemetry/api');

export interface TaskTrace {
  /** Feeds the task's and the steps' spans from the engine's events. */
  readonly subscriber: Subscriber;
  /** The plan's facts for the task span (toolchain). */
  plan(facts: { toolchain: string | null; sandbox: string }): void;
  /** Wraps the model port: one span per call, under the step that makes it. */
  wrapLlm(llm: Llm): Llm;
  /** Ends the task's span with its result. */
  end(result: { status: string; exitCode: number; reason: string | null }): void;
}

export interface Tracing {
  /** Opens a task's trace under `parent` (a carrier with `traceparent`), or as a new trace. */
  task(taskId: string, attributes: Record<string, string | number>, parent?: Record<string, string>): TaskTrace;
  /** A short span for queuing a task (in `serve`); returns the carrier the job takes to the worker. */
  enqueued(taskId: string, attributes: Record<string, string | number>): Record<string, string>;
  /** Sends what is buffered. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** True when the standard variables turn trace export on. */
export function tracingWanted(env: Env): boolean {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return false;
  if ((env.OTEL_TRACES_EXPORTER ?? '').toLowerCase() === 'none') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The tracer of this process, or null (nothing imported) when tracing is off. */
export async function openTracing(env: Env, service: string): Promise<Tracing | null> {
  if (!tracingWanted(env)) return null;
  const [api, { NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, semconv] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/semantic-conventions'),
    ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [semconv.ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME || service }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // Registers the W3C trace-context propagator the carriers use.
  provider.register();
  const tracer = provider.getTracer('autodev');
  return {
    task(taskId, attributes, parent) {
      const parentContext = parent ? api.propagation.extract(api.ROOT_CONTEXT, parent) : api.ROOT_CONTEXT;
      return taskTrace(api, tracer, parentContext, taskId, attributes);
    },
    enqueued(taskId, attributes) {
      const span = tracer.startSpan('autodev.enqueue', { attributes: { 'autodev.task.id': taskId, ...attributes } });
      const carrier: Record<string, string> = {};
      api.propagation.inject(api.trace.setSpan(api.ROOT_CONTEXT, span), carrier);
      span.end();
      return carrier;
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

function taskTrace(api: Api, tracer: Tracer, parent: Context, taskId: string, attributes: Record<string, string | number>): TaskTrace {
  const task = tracer.startSpan('autodev.task', { attributes: { 'autodev.task.id': taskId, ...attributes } }, parent);
  const taskContext = api.trace.setSpan(parent, task);
  /** Open step spans by step id and mode (a baseline and a change run of one step can overlap). */
  const steps = new Map<string, Span>();
  /** The step that started last and is still open: a model call belongs to it. */
  let current: Span | null = null;
  let ended = false;
  const key = (stepId: string, mode: string): string => `${mode}:${stepId}`;

  function onEvent(event: EngineEvent): void {
    if (event.taskId !== taskId || ended) return;
    switch (event.type) {
      case 'step.started': {
        const span = tracer.startSpan(
          `autodev.step ${event.stepId}`,
          {
            attributes: {
              'autodev.step.id': event.stepId,
              'autodev.step.tool': event.tool,
              'autodev.step.mode': event.mode,
              'autodev.step.attempt': event.attempt,
              'autodev.step.round': event.round,
            },
          },
          taskContext,
        );
        steps.set(key(event.stepId, event.mode), span);
        current = span;
        break;
      }
      case 'step.finished': {
        const span = steps.get(key(event.stepId, event.mode));
        if (!span) break;
        steps.delete(key(event.stepId, event.mode));
        span.setAttribute('autodev.step.status', event.status);
        const exit = /exit(?: code)? (\d+)/i.exec(event.summary);
        if (exit) span.setAttribute('process.exit.code', Number(exit[1]));
        if (event.status === 'failed') span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end();
        if (current === span) current = [...steps.values()].at(-1) ?? null;
        break;
      }
      case 'task.status':
        task.addEvent('status', { 'autodev.task.status': event.status });
        break;
      default:
        break;
    }
  }

  return {
    subscriber: makeSubscriber(onEvent, async () => {}),
    plan(facts) {
      if (facts.toolchain) task.setAttribute('autodev.toolchain', facts.toolchain);
      task.setAttribute('autodev.sandbox', facts.sandbox);
    },
    wrapLlm(llm) {
      return {
        async chat(request: ChatRequest): Promise<ChatReply> {
          const parentSpan = current ?? task;
          const span = tracer.startSpan(
            'autodev.model.call',
            { attributes: { 'gen_ai.request.model': request.model, 'gen_ai.request.max_tokens': request.maxTokens } },
            api.trace.setSpan(parent, parentSpan),
          );
          try {
            const reply = await llm.chat(request);
            span.setAttributes({ 'gen_ai.usage.input_tokens': reply.promptTokens, 'gen_ai.usage.output_tokens': reply.completionTokens });
            return reply;
          } catch (error) {
            span.setStatus({ code: api.SpanStatusCode.ERROR, message: (error as Error).name });
            throw error;
          } finally {
            span.end();
          }
        },
      };
    },
    end(result) {
      if (ended) return;
      ended = true;
      for (const span of steps.values()) span.end();
      steps.clear();
      task.setAttributes({ 'autodev.task.status': result.status, 'autodev.task.exit_code': result.exitCode });
      if (result.exitCode !== 0) task.setStatus({ code: api.SpanStatusCode.ERROR, message: result.status });
      task.end();
    },
  };
}
