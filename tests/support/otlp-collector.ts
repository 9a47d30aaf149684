// A small OTLP/HTTP trace collector on 127.0.0.1: takes POST /v1/traces in OTLP's JSON encoding (what
// @opentelemetry/exporter-trace-otlp-http sends) and keeps every span, flattened, for assertions.
import { listen, type RunningServer } from './http-util.js';

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  service: string;
  attributes: Record<string, string | number | boolean>;
}

export interface OtlpCollector extends RunningServer {
  spans(): CollectedSpan[];
  /** Requests that were not OTLP JSON (a protobuf body, another path): should stay empty. */
  rejected(): string[];
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

function valueOf(value: AnyValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return JSON.stringify(value);
}

function attributesOf(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const spans: CollectedSpan[] = [];
  const rejected: string[] = [];
  const server = await listen((request, res) => {
    const type = request.headers['content-type'] ?? '';
    if (request.method !== 'POST' || request.path !== '/v1/traces' || !type.includes('json')) {
      rejected.push(`${request.method} ${request.path} ${type}`);
      res.writeHead(415).end();
      return;
    }
    const body = request.body as {
      resourceSpans?: {
        resource?: { attributes?: KeyValue[] };
        scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes?: KeyValue[] }[] }[];
      }[];
    };
    for (const resourceSpan of body.resourceSpans ?? []) {
      const service = String(attributesOf(resourceSpan.resource?.attributes)['service.name'] ?? '');
      for (const scope of resourceSpan.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          spans.push({
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            service,
            attributes: attributesOf(span.attributes),
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return Object.assign(server, { spans: () => [...spans], rejected: () => [...rejected] });
}
