/**
 * The log mixin of the master's logger without @opentelemetry/api on its import path (the API is
 * ~50 files; a master that does not trace should not load them). A span can only be active once
 * something registered an OpenTelemetry global (the API keeps its registrations on `globalThis`
 * under this symbol; a context manager is one of them): hsu's own tracing, or the user's SDK in
 * the same process. Until then there is nothing to add; once there is, hsu's call-context hook
 * answers when installed, else the API (already loaded by whoever registered) is taken
 * synchronously with require(), which returns the same ESM instance the rest of the process uses.
 */
import { createRequire } from 'node:module';
import { callContextHook } from './call-context.js';
import type * as Hook from './tracing/hook.js';

/** @opentelemetry/api's global registry key for major version 1 (see its internal/global-utils). */
const OTEL_API_GLOBAL = Symbol.for('opentelemetry.js.api.1');

let api: typeof Hook | undefined;

/** The API's hook module once something registered an OpenTelemetry global; undefined before (no span can be active). */
function apiOnceRegistered(): typeof Hook | undefined {
  if ((globalThis as Record<symbol, unknown>)[OTEL_API_GLOBAL] === undefined) return undefined;
  return (api ??= createRequire(import.meta.url)('./tracing/hook.js') as typeof Hook);
}

/**
 * A pino `mixin`: every record logged while a span is active carries its `trace_id` and `span_id`;
 * the same records as {@link traceLogMixin}, for a fraction of the import cost.
 */
export function lazyTraceLogMixin(): Record<string, string> {
  const hook = callContextHook();
  if (hook !== undefined) return hook.logFields() ?? {};
  return apiOnceRegistered()?.traceLogMixin() ?? {};
}

/** `trace_id` / `span_id` of the active span, or undefined: tracing/hook.js's traceFields, without loading the API before it can answer. */
export function lazyTraceFields(): { trace_id: string; span_id: string } | undefined {
  return apiOnceRegistered()?.traceFields();
}
