/**
 * The call-context hook made of the OpenTelemetry API: what the master and a hosted module both
 * install. Only @opentelemetry/api (no SDK): the context manager and propagator are whatever is
 * registered globally.
 */
import { context, isSpanContextValid, propagation, trace, type Context } from '@opentelemetry/api';
import type { CallContextHook, TraceCarrier } from '../call-context.js';

export function otelCallContextHook(extra: Pick<CallContextHook, 'receiveSpans' | 'remoteSetup' | 'flush' | 'routed'> = {}): CallContextHook {
  return {
    capture: () => context.active(),
    inject: () => {
      const active = context.active();
      const span = trace.getSpan(active);
      if (span === undefined || !isSpanContextValid(span.spanContext())) return undefined;
      const carrier: TraceCarrier = {};
      propagation.inject(active, carrier);
      return carrier;
    },
    enter: (captured, fn) => context.with(captured as Context, fn),
    extract: (carrier, fn) => context.with(propagation.extract(context.active(), carrier), fn),
    logFields: () => traceFields(),
    ...extra,
  };
}

/** `trace_id` / `span_id` of the active span, or undefined. */
export function traceFields(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan();
  if (span === undefined) return undefined;
  const sc = span.spanContext();
  return isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : undefined;
}

/**
 * A pino `mixin`: every record logged while a span is active carries its `trace_id` and `span_id`.
 * @example
 * const logger = pino({ mixin: traceLogMixin });
 */
export function traceLogMixin(): Record<string, string> {
  return traceFields() ?? {};
}
