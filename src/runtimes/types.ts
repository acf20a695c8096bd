/**
 * A runtime knows how to launch, terminate and observe one kind of worker. The controller
 * (src/lifecycle) drives every runtime the same way, which is what keeps the lifecycle identical
 * across worker types by construction.
 */
import type { Logger } from 'pino';
import type { SerializedError } from '../errors.js';
import type { CallOptions, WorkerEndpoint } from '../worker/index.js';

export type RuntimeKind = 'process' | 'inline' | 'thread' | 'host';

export interface LaunchContext {
  /** Aborted when the start times out or a stop arrives mid-start; the runtime must clean up and reject. */
  readonly signal: AbortSignal;
  /** Logger bound to the worker id. */
  readonly logger: Logger;
  /** 0 for a manual start, n for the n-th automatic restart. */
  readonly attempt: number;
}

export interface StopRequest {
  /** Grace period before the runtime forces the instance down (SIGKILL, worker.terminate()). */
  readonly timeoutMs: number;
  /** Signal for process-backed runtimes (default SIGTERM). */
  readonly signal: NodeJS.Signals;
  /** Skip the grace period. */
  readonly force: boolean;
}

/** How an instance ended. `requested` distinguishes a stop we asked for from a crash. */
export interface ExitInfo {
  readonly requested: boolean;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** True when the grace period ran out and the instance was killed. */
  readonly forced: boolean;
  /** Set when the instance failed (fatal report, uncaught error, OOM, non-zero exit...). */
  readonly error?: SerializedError;
  readonly at: number;
}

export interface Instance {
  readonly pid: number | undefined;
  /** Settles exactly once, when the instance is gone (stopped on request or died). Never rejects. */
  readonly exited: Promise<ExitInfo>;
  /** Ask the instance to end; `exited` reports the outcome. Idempotent. */
  stop(request: StopRequest): Promise<void>;
  /** Runtime-specific liveness/health answer; absent means "alive is healthy". */
  health?(): Promise<boolean>;
  /** Invoke a module action; absent for plain processes. */
  call?(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown>;
  endpoint(): WorkerEndpoint | undefined;
  /** Cheap, synchronous facts for diagnostics (module info, load time, resource usage...). */
  diagnostics(): Record<string, unknown>;
}

export interface Runtime {
  readonly kind: RuntimeKind;
  /** Launch one instance; resolves once it is running, rejects with a coded HsuError. */
  launch(context: LaunchContext): Promise<Instance>;
  /** Static facts available even when nothing runs (e.g. executable path and whether it exists). */
  describe(): Record<string, unknown>;
  /** Release what outlives instances (log files); called when the worker is removed or the master shuts down. */
  close?(): Promise<void>;
}
