/**
 * The master's side of the control protocol, whatever carries it (a worker thread's port or a
 * child's IPC channel): start handshake, calls with ids, health, logs, fatal reports.
 */
import type { Logger } from 'pino';
import { deserializeError, hsuError, serializeError, type SerializedError } from '../errors.js';
import type { CallOptions } from '../worker/define.js';
import type { ModuleInfo, WorkerEndpoint } from '../worker/contract.js';
import { createDeadline, needsDeadline } from './call-deadline.js';
import { PROTOCOL_VERSION, type FromHost, type LogLevel, type ToHost } from './protocol.js';

/** Longer than any probe timeout a health check is likely to use; the probe itself answers earlier. */
const HEALTH_ANSWER_MS = 30_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface StartedFacts {
  readonly info: ModuleInfo;
  readonly actions: string[];
  readonly loadedAt: number;
}

export class RemoteModule {
  readonly started: Promise<StartedFacts>;
  private resolveStarted!: (facts: StartedFacts) => void;
  private rejectStarted!: (error: Error) => void;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private currentEndpoint: WorkerEndpoint | undefined;
  private facts: StartedFacts | undefined;
  /** The fatal error the host reported before ending, if any. */
  fatal: SerializedError | undefined;
  /** Told when the host reports a fatal error; the owner then bounds how long the host may take to end. */
  onFatal: (() => void) | undefined;
  /** Set when the host confirmed a graceful stop; `error` if module.stop() threw. */
  stoppedReport: { error?: SerializedError } | undefined;

  constructor(
    private readonly workerId: string,
    private readonly send: (message: ToHost) => void,
    private readonly logger: Logger,
  ) {
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.started.catch(() => undefined); // observed by launch(); never an unhandled rejection
  }

  init(modulePath: string, entryPoint: string, config: Record<string, unknown>): void {
    const level = this.logger.level as LogLevel | 'silent';
    this.send({ t: 'init', v: PROTOCOL_VERSION, workerId: this.workerId, modulePath, entryPoint, config, logLevel: level });
  }

  get endpoint(): WorkerEndpoint | undefined {
    return this.currentEndpoint;
  }

  get startedFacts(): StartedFacts | undefined {
    return this.facts;
  }

  handle(message: FromHost): void {
    switch (message.t) {
      case 'result': {
        const pending = this.pending.get(message.id);
        if (pending === undefined) return; // timed out or aborted already
        this.pending.delete(message.id);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(deserializeError(message.error));
        return;
      }
      case 'health': {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        pending?.resolve(message.ok);
        return;
      }
      case 'log':
        this.logger[message.level](message.fields, message.msg);
        return;
      case 'started':
        if (message.v !== PROTOCOL_VERSION) {
          this.rejectStarted(hsuError('PROTOCOL_VERSION', `worker '${this.workerId}': host speaks control protocol v${message.v}, master v${PROTOCOL_VERSION}`, { worker_id: this.workerId }));
          return;
        }
        this.currentEndpoint = message.endpoint;
        this.facts = { info: message.info, actions: message.actions, loadedAt: message.loadedAt };
        this.resolveStarted(this.facts);
        return;
      case 'start_failed':
        this.rejectStarted(deserializeError(message.error));
        return;
      case 'endpoint':
        this.currentEndpoint = message.endpoint;
        return;
      case 'fatal':
        this.fatal = message.error;
        this.rejectStarted(deserializeError(message.error));
        this.onFatal?.();
        return;
      case 'stopped':
        this.stoppedReport = message.error === undefined ? {} : { error: message.error };
        return;
    }
  }

  /** Hot path: one message out, one in; timers only when the caller asked for a deadline. */
  call(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    if (this.closed) return Promise.reject(this.interrupted(action));
    // Already aborted: refuse before anything is sent, so the action never runs (as inline).
    if (options?.signal?.aborted === true) {
      return Promise.reject(hsuError('CALL_ABORTED', `call ${this.workerId}.${action} was aborted`, { worker_id: this.workerId, action }, options.signal.reason));
    }
    const id = this.nextId++;
    const message: ToHost = needsDeadline(options) ? { t: 'call', id, a: action, i: input, s: 1 } : { t: 'call', id, a: action, i: input };
    const result = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    try {
      this.send(message);
    } catch (error) {
      this.pending.delete(id);
      return Promise.reject(
        hsuError('CALL_PAYLOAD', `call ${this.workerId}.${action}: input cannot cross to the worker: ${(error as Error).message} (payloads cross by structured clone: no functions, symbols or class prototypes)`, { worker_id: this.workerId, action }, error),
      );
    }
    if (!needsDeadline(options)) return result;
    const deadline = createDeadline(this.workerId, action, options);
    return Promise.race([result, deadline.expired])
      .catch((error: unknown) => {
        if (this.pending.delete(id) && !this.closed) this.send({ t: 'cancel', id, reason: serializeError(error) });
        throw error;
      })
      .finally(() => deadline.dispose());
  }

  /** A host too busy to answer within `timeoutMs` is unhealthy; its entry is dropped, not kept until the host ends. */
  health(timeoutMs = HEALTH_ANSWER_MS): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const id = this.nextId++;
    const result = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    const timer = setTimeout(() => {
      this.pending.get(id)?.resolve(false);
      this.pending.delete(id);
    }, timeoutMs);
    this.send({ t: 'health', id });
    return result.then((ok) => {
      clearTimeout(timer);
      return ok === true;
    });
  }

  stop(): void {
    if (!this.closed) this.send({ t: 'stop' });
  }

  /** The thread or process is gone: nothing in flight can complete. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.rejectStarted(hsuError('START_FAILED', `worker '${this.workerId}' ended before it started: ${reason}`, { worker_id: this.workerId }));
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(this.interrupted(undefined, reason));
    }
  }

  private interrupted(action: string | undefined, reason = 'worker ended'): Error {
    return hsuError('CALL_INTERRUPTED', `worker '${this.workerId}' ended while a call was in flight${action ? ` (${action})` : ''}: ${reason}`, { worker_id: this.workerId, action });
  }
}
