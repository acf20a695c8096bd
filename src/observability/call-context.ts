/**
 * The seam through which a trace context follows a call into a module, whatever its deployment.
 * The runtimes ask it at three points (a call leaves the master, a call arrives in a module, a
 * module logs); tracing installs it when it starts. Nothing is installed by default, so without
 * tracing each of those points costs one `undefined` check. No imports: the thread and host
 * bundles include this file, and must not pull in OpenTelemetry.
 */

/** W3C trace context as it crosses a thread or process boundary (`traceparent`, `tracestate`). */
export type TraceCarrier = Record<string, string>;

/** What a hosted module loads to trace on its side, named by the master in the `init` message. */
export interface RemoteTracingSetup {
  /** A file URL of a module exporting `installRemoteTracing(options, post)`. */
  readonly module: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface CallContextHook {
  /** Caller side, same isolate: the active context, re-entered inside the module's own async scope. */
  capture(): unknown;
  /** Caller side, across a boundary: the active context as a carrier, or undefined when no span is active. */
  inject(): TraceCarrier | undefined;
  /** Callee side, same isolate: runs `fn` with a context from {@link capture} active. */
  enter<T>(captured: unknown, fn: () => T): T;
  /** Callee side, across a boundary: runs `fn` with the carried context active. */
  extract<T>(carrier: TraceCarrier, fn: () => T): T;
  /** `trace_id` and `span_id` of the active span, for a log record; undefined when none is active. */
  logFields(): { trace_id: string; span_id: string } | undefined;
  /** Master side: spans a hosted module finished, to be exported with the master's own. */
  receiveSpans?(workerId: string, spans: readonly unknown[]): void;
  /** Master side: the router picked `replica` for the active call (once per attempt, retries included). */
  routed?(replica: { readonly id: string; readonly node: string }): void;
  /** Master side: what a thread or child host must load to trace (sent with `init`). */
  remoteSetup?(): RemoteTracingSetup | undefined;
  /** Hosted side: sends what is still buffered before the host ends. */
  flush?(): void;
}

let current: CallContextHook | undefined;

/** Installs `hook` for this isolate; returns the function that takes it back out. */
export function setCallContextHook(hook: CallContextHook): () => void {
  const previous = current;
  current = hook;
  return () => {
    if (current === hook) current = previous;
  };
}

export function callContextHook(): CallContextHook | undefined {
  return current;
}
