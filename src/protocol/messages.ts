/**
 * The control protocol between the master and a module hosted in a worker thread or a child
 * process. Messages travel by structured clone (postMessage, or IPC with `serialization:
 * 'advanced'`), so both remote deployments accept exactly the same payloads.
 *
 * A host refuses an `init` whose `v` differs, and the master refuses a `started` whose
 * `v` differs, each with HSU_ERR_PROTOCOL_VERSION.
 */
import type { SerializedError } from '../errors.js';
import type { ModuleInfo, WorkerEndpoint } from '../worker/contract.js';
import type { RemoteTracingSetup, TraceCarrier } from '../observability/call-context.js';

/** v3: a module calls other workers and uses the master's bus (out_call, publish, subscribe). v2: health timeout, facts. */
export const PROTOCOL_VERSION = 3;

/** Options of a call a module makes, as they cross (no AbortSignal: a timeout stands for it). */
export interface OutCallOptions {
  readonly timeout?: number;
  readonly idempotent?: boolean;
  readonly key?: string;
}

/** The V8 heap of the thread or host process, as the host last measured it. */
export interface HeapFacts {
  readonly used_bytes: number;
  readonly total_bytes: number;
  readonly limit_bytes: number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Master -> host. */
export type ToHost =
  | {
      readonly t: 'init';
      readonly v: number;
      readonly workerId: string;
      readonly modulePath: string;
      readonly entryPoint: string;
      readonly config: Record<string, unknown>;
      readonly logLevel: LogLevel | 'silent';
      /** Set when the master traces: what the host loads to trace on its side. */
      readonly tracing?: RemoteTracingSetup;
    }
  /** `s` is set when the caller may cancel: only then does the host track an AbortController. */
  | { readonly t: 'call'; readonly id: number; readonly a: string; readonly i: unknown; readonly s?: 1; readonly c?: TraceCarrier }
  /** `reason` is the caller's CALL_TIMEOUT / CALL_ABORTED error, handed to the action as `call.signal.reason`. */
  | { readonly t: 'cancel'; readonly id: number; readonly reason?: SerializedError }
  /** `ms`: the probe's timeout, so the host bounds the module's isHealthy() itself. */
  | { readonly t: 'health'; readonly id: number; readonly ms?: number }
  | { readonly t: 'facts'; readonly id: number }
  /** The answer to the module's own call. */
  | { readonly t: 'out_result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'out_result'; readonly id: number; readonly ok: false; readonly error: SerializedError }
  /** A publication on a topic the module subscribed to. */
  | { readonly t: 'event'; readonly topic: string; readonly payload: unknown }
  | { readonly t: 'stop' };

/** Host -> master. */
export type FromHost =
  | { readonly t: 'started'; readonly v: number; readonly info: ModuleInfo; readonly actions: string[]; readonly endpoint: WorkerEndpoint; readonly loadedAt: number }
  | { readonly t: 'start_failed'; readonly error: SerializedError }
  | { readonly t: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'result'; readonly id: number; readonly ok: false; readonly error: SerializedError }
  | { readonly t: 'health'; readonly id: number; readonly ok: boolean | 'timeout' }
  | { readonly t: 'facts'; readonly id: number; readonly diagnostics: Record<string, unknown> | null; readonly heap?: HeapFacts }
  | { readonly t: 'log'; readonly level: LogLevel; readonly fields: Record<string, unknown>; readonly msg: string | undefined }
  | { readonly t: 'endpoint'; readonly endpoint: WorkerEndpoint }
  | { readonly t: 'fatal'; readonly error: SerializedError }
  | { readonly t: 'stopped'; readonly error?: SerializedError }
  /** The module calls a worker or service (ctx.call). */
  | { readonly t: 'out_call'; readonly id: number; readonly target: string; readonly a: string; readonly i: unknown; readonly o: OutCallOptions; readonly c?: TraceCarrier }
  /** Spans the module finished (when the master traces), exported by the master with its own. */
  | { readonly t: 'spans'; readonly spans: readonly unknown[] }
  | { readonly t: 'publish'; readonly topic: string; readonly payload: unknown }
  | { readonly t: 'subscribe'; readonly topic: string }
  | { readonly t: 'unsubscribe'; readonly topic: string };
