/**
 * The control protocol between the master and a module hosted in a worker thread or a child
 * process. Messages travel by structured clone (postMessage, or IPC with `serialization:
 * 'advanced'`), so both remote deployments accept exactly the same payloads.
 *
 * Version 1. A host refuses an `init` whose `v` differs, and the master refuses a `started` whose
 * `v` differs, each with HSU_ERR_PROTOCOL_VERSION.
 */
import type { SerializedError } from '../errors.js';
import type { ModuleInfo, WorkerEndpoint } from '../worker/contract.js';

export const PROTOCOL_VERSION = 1;

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
    }
  /** `s` is set when the caller may cancel: only then does the host track an AbortController. */
  | { readonly t: 'call'; readonly id: number; readonly a: string; readonly i: unknown; readonly s?: 1 }
  /** `reason` is the caller's CALL_TIMEOUT / CALL_ABORTED error, handed to the action as `call.signal.reason`. */
  | { readonly t: 'cancel'; readonly id: number; readonly reason?: SerializedError }
  | { readonly t: 'health'; readonly id: number }
  | { readonly t: 'stop' };

/** Host -> master. */
export type FromHost =
  | { readonly t: 'started'; readonly v: number; readonly info: ModuleInfo; readonly actions: string[]; readonly endpoint: WorkerEndpoint; readonly loadedAt: number }
  | { readonly t: 'start_failed'; readonly error: SerializedError }
  | { readonly t: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly t: 'result'; readonly id: number; readonly ok: false; readonly error: SerializedError }
  | { readonly t: 'health'; readonly id: number; readonly ok: boolean }
  | { readonly t: 'log'; readonly level: LogLevel; readonly fields: Record<string, unknown>; readonly msg: string | undefined }
  | { readonly t: 'endpoint'; readonly endpoint: WorkerEndpoint }
  | { readonly t: 'fatal'; readonly error: SerializedError }
  | { readonly t: 'stopped'; readonly error?: SerializedError };

/** The two ends of a channel, whatever carries it (MessagePort or process IPC). */
export interface HostPort {
  post(message: FromHost): void;
  onMessage(handler: (message: ToHost) => void): void;
  /** Ends the host: the thread or the process. */
  exit(code: number): void;
}
