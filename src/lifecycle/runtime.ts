/**
 * The port every runtime plugs into. A runtime knows how to launch, terminate and observe one kind
 * of worker; the one controller drives every runtime the same way, which is what keeps the
 * lifecycle identical across worker types by construction. Implementations live in src/runtimes.
 */
import type { Logger } from 'pino';
import type { SerializedError } from '../errors.js';
import type { CallOptions, WorkerEndpoint } from '../worker/index.js';

/** What a previous master recorded of a process it left running (os/pid-registry.ts's OrphanRecord). */
export interface Orphan {
  readonly worker: string;
  readonly pid: number;
  readonly start: number;
  readonly hash?: string;
  readonly cgroup?: string;
  readonly port?: number;
  readonly host?: string;
}

/** The built-in kinds; a registered runtime may bring its own. */
export type BuiltinRuntimeKind = 'process' | 'inline' | 'thread' | 'host';
export type RuntimeKind = BuiltinRuntimeKind | (string & {});

/**
 * Why an instance is being stopped: by an operator or shutdown, because probes said it is
 * unhealthy, because it reported a fatal error, because it went over a resource limit, or because
 * its restart schedule said so.
 */
export type StopCause = 'requested' | 'unhealthy' | 'fatal' | 'limit' | 'schedule';

export interface LaunchContext {
  /** Aborted when the start times out or a stop arrives mid-start; the runtime must clean up, then reject. */
  readonly signal: AbortSignal;
  /** Logger bound to the worker id. */
  readonly logger: Logger;
  /** 0 for a manual start, n for the n-th automatic restart. */
  readonly attempt: number;
}

export interface StopRequest {
  /** Grace period before the runtime forces the instance down (SIGKILL, worker.terminate()). */
  readonly graceMs: number;
  /** Signal for process-backed runtimes (default SIGTERM). */
  readonly signal: NodeJS.Signals;
  /** Skip the grace period (and escalate a stop already under way). */
  readonly force: boolean;
  readonly cause: StopCause;
  /** The master is shutting down: a runtime whose instances outlive it (unmanaged) may let go instead of stopping. */
  readonly detach?: boolean;
}

/** How an instance ended. `requested` distinguishes a stop we asked for from a crash. */
export interface ExitInfo {
  readonly requested: boolean;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** True when the grace period ran out (or was skipped) and the instance was forced down. */
  readonly forced: boolean;
  /** Set when the instance failed (fatal report, uncaught error, OOM, non-zero exit...). */
  readonly error?: SerializedError;
  readonly at: number;
}

/** Facts a runtime reports for diagnostics: `kind` plus whatever that kind knows. */
export interface RuntimeDetails {
  readonly kind: RuntimeKind;
  readonly [fact: string]: unknown;
}

export interface Instance {
  readonly pid: number | undefined;
  /** The port an integrated worker was given (probes of type tcp, grpc and `{port}` use it). */
  readonly port?: number;
  readonly host?: string;
  /**
   * Settles exactly once, when the instance stopped serving: it exited, or it reported a fatal
   * error (the crash is a state change at once). Never rejects.
   */
  readonly exited: Promise<ExitInfo>;
  /** Settles when every resource of the instance is gone (after `exited`); the next launch waits for it. Never rejects. */
  readonly released: Promise<void>;
  /** Ask the instance to end; `exited` reports the outcome. Idempotent; a forced request escalates. */
  stop(request: StopRequest): Promise<void>;
  /**
   * The runtime's own liveness/health answer; absent means "alive is healthy". Must honour
   * `signal`; `timeoutMs` is the probe's timeout, for a host to bound the answer on its side.
   * `'timeout'`: that bound struck (the check did not answer in time), said by whoever's timer
   * fired, so the probe need not guess it from a clock its timers do not share.
   */
  health?(signal: AbortSignal, timeoutMs?: number): Promise<boolean | 'timeout'>;
  /** Invoke a module action; absent for plain processes. */
  call?(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown>;
  endpoint(): WorkerEndpoint | undefined;
  /** Cheap, synchronous facts for diagnostics (module info, resource usage...). */
  diagnostics(): Readonly<Record<string, unknown>>;
}

export interface RuntimeCapabilities {
  /** The master may stop the worker's instances (false for an unmanaged process the config protects). */
  readonly stoppable: boolean;
  /** Instances answer `call()`. */
  readonly callable: boolean;
}

export interface Runtime {
  readonly kind: RuntimeKind;
  readonly capabilities: RuntimeCapabilities;
  /** Launch one instance; resolves once it is running, rejects with a coded HsuError (after cleaning up). */
  launch(context: LaunchContext): Promise<Instance>;
  /** Supervise again a process a previous master left running (process workers that can be adopted). */
  adopt?(orphan: Orphan, context: LaunchContext): Promise<Instance>;
  /** Static facts available even when nothing runs (e.g. executable path and whether it exists). */
  describe(): RuntimeDetails;
  /** A module's new `config:` block, applied in place by the running instance: the next launch (a restart) initializes with it. */
  reconfigure?(moduleConfig: Readonly<Record<string, unknown>>): void;
  /** Release what outlives instances (log files); called when the worker is removed or the master shuts down. */
  close?(): Promise<void>;
}
