/**
 * Spans finished in a thread or child host cross to the master as plain, structured-clone-safe
 * records, and are rebuilt there into the SDK's ReadableSpan shape for the master's exporter: one
 * exporter, one connection and one configuration, whatever the deployment.
 */
import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import type { Resource } from '@opentelemetry/resources';

export interface SerializedSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly context: SpanContext;
  readonly parent: SpanContext | undefined;
  readonly start: HrTime;
  readonly end: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: TimedEvent[];
  readonly resource: Attributes;
  readonly scope: { name: string; version?: string; schemaUrl?: string };
  readonly dropped: readonly [attributes: number, events: number, links: number];
}

export function serializeSpan(span: ReadableSpan): SerializedSpan {
  const sc = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    // Without traceState: a class instance that does not survive structured clone (the W3C header keeps it).
    context: { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, ...(sc.isRemote === undefined ? {} : { isRemote: sc.isRemote }) },
    parent: span.parentSpanContext === undefined ? undefined : { traceId: span.parentSpanContext.traceId, spanId: span.parentSpanContext.spanId, traceFlags: span.parentSpanContext.traceFlags, isRemote: true },
    start: span.startTime,
    end: span.endTime,
    duration: span.duration,
    status: span.status,
    attributes: span.attributes,
    links: span.links.map((l) => ({ context: { traceId: l.context.traceId, spanId: l.context.spanId, traceFlags: l.context.traceFlags }, ...(l.attributes === undefined ? {} : { attributes: l.attributes }) })),
    events: span.events,
    resource: span.resource.attributes,
    scope: { name: span.instrumentationScope.name, ...(span.instrumentationScope.version === undefined ? {} : { version: span.instrumentationScope.version }) },
    dropped: [span.droppedAttributesCount, span.droppedEventsCount, span.droppedLinksCount],
  };
}

/** Rebuilds what {@link serializeSpan} made; anything malformed (a host speaking nonsense) yields undefined. */
export function reviveSpan(value: unknown, resourceOf: (attributes: Attributes) => Resource): ReadableSpan | undefined {
  const s = value as Partial<SerializedSpan> | null;
  if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || !isContext(s.context) || !Array.isArray(s.start) || !Array.isArray(s.end)) return undefined;
  const context = s.context;
  return {
    name: s.name,
    kind: s.kind ?? 0,
    spanContext: () => context,
    ...(isContext(s.parent) ? { parentSpanContext: s.parent } : {}),
    startTime: s.start,
    endTime: s.end,
    duration: s.duration ?? [0, 0],
    status: s.status ?? { code: 0 },
    attributes: s.attributes ?? {},
    links: s.links ?? [],
    events: s.events ?? [],
    ended: true,
    resource: resourceOf(s.resource ?? {}),
    instrumentationScope: s.scope ?? { name: 'unknown' },
    droppedAttributesCount: s.dropped?.[0] ?? 0,
    droppedEventsCount: s.dropped?.[1] ?? 0,
    droppedLinksCount: s.dropped?.[2] ?? 0,
  };
}

function isContext(value: unknown): value is SpanContext {
  const c = value as Partial<SpanContext> | null | undefined;
  return typeof c === 'object' && c !== null && typeof c.traceId === 'string' && typeof c.spanId === 'string' && typeof c.traceFlags === 'number';
}
