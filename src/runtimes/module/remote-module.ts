/**
 * The master's side of the control protocol, whatever carries it (a worker thread's port, a
 * child's IPC channel): start handshake, calls with ids, health, module facts, logs, fatal
 * reports. Errors from the other side are rebuilt with their catalogue code and status, so a
 * caller sees the same error whatever the deployment.
 */
import type { Logger } from 'pino';
import { deserializeError, hsuError, serializeError, type SerializedError } from '../../errors.js';
import { callContextHook } from '../../observability/call-context.js';
import { isProbeTimeout } from '../../health/probe.js';
import { PROTOCOL_VERSION, type FromHost, type HeapFacts, type LogLevel, type ToHost } from '../../protocol/messages.js';
import type { Transport } from '../../protocol/transport.js';
import type { CallOptions } from '../../worker/define.js';
import type { ModuleInfo, WorkerEndpoint } from '../../worker/contract.js';
import { createDeadline, needsDeadline } from './call-deadline.js';
import { NO_SERVICES, type ModuleServices } from './module-services.js';

/** Module facts are asked for at most this often; diagnostics show the last answer. */
const FACTS_EVERY_MS = 1_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** A module call (what a drain waits for), not a health probe or a facts request. */
  readonly call?: true;
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
  private moduleFacts: Record<string, unknown> | null = null;
  private factsAskedAt = 0;
  private heapFacts: HeapFacts | undefined;
  /** The module's subscriptions on the master's bus, by topic. */
  private readonly subscriptions = new Map<string, () => void>();
  /**
   * Only while a graceful stop drains: how many calls are still in flight (counted once when the
   * drain begins, then kept by each call's settling, so a reply costs O(1)) and who waits for none.
   */
  private draining: { left: number; readonly waiters: Set<() => void> } | undefined;
  /** The fatal error the host reported before ending, if any. */
  fatal: SerializedError | undefined;
  /** Told when the host reports a fatal error. */
  onFatal: ((error: SerializedError) => void) | undefined;
  /** Set when the host confirmed a graceful stop; `error` if module.stop() threw. */
  stoppedReport: { error?: SerializedError } | undefined;

  constructor(
    private readonly workerId: string,
    private readonly transport: Transport<ToHost, FromHost>,
    private readonly logger: Logger,
    private readonly services: ModuleServices = NO_SERVICES,
  ) {
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.started.catch(() => undefined); // observed by launch(); never an unhandled rejection
    transport.onMessage((message) => this.handle(message));
  }

  init(modulePath: string, entryPoint: string, config: Record<string, unknown>): void {
    const level = this.logger.level as LogLevel | 'silent';
    const tracing = callContextHook()?.remoteSetup?.();
    this.transport.send({ t: 'init', v: PROTOCOL_VERSION, workerId: this.workerId, modulePath, entryPoint, config, logLevel: level, ...(tracing === undefined ? {} : { tracing }) });
  }

  get endpoint(): WorkerEndpoint | undefined {
    return this.currentEndpoint;
  }

  get startedFacts(): StartedFacts | undefined {
    return this.facts;
  }

  /** The thread's or host's V8 heap as last reported with the module's facts (read {@link moduleDiagnostics} to refresh). */
  get heap(): HeapFacts | undefined {
    return this.heapFacts;
  }

  /** The module's own diagnostics as last reported; asks for fresh ones in the background. */
  get moduleDiagnostics(): Record<string, unknown> | null {
    const now = Date.now();
    if (!this.closed && this.facts !== undefined && now - this.factsAskedAt >= FACTS_EVERY_MS) {
      this.factsAskedAt = now;
      const id = this.nextId++;
      this.pending.set(id, { resolve: (value) => (this.moduleFacts = value as Record<string, unknown> | null), reject: () => undefined });
      this.send({ t: 'facts', id });
    }
    return this.moduleFacts;
  }

  private handle(message: FromHost): void {
    switch (message.t) {
      case 'result': {
        const pending = this.pending.get(message.id);
        if (pending === undefined) return; // timed out or aborted already
        this.pending.delete(message.id);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(deserializeError(message.error));
        if (this.draining !== undefined && pending.call === true) this.callSettled();
        return;
      }
      case 'health':
      case 'facts': {
        if (message.t === 'facts' && message.heap !== undefined) this.heapFacts = message.heap;
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        pending?.resolve(message.t === 'health' ? message.ok : message.diagnostics);
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
        this.interruptAll('the module reported a fatal error');
        this.onFatal?.(message.error);
        return;
      case 'stopped':
        this.stoppedReport = message.error === undefined ? {} : { error: message.error };
        return;
      case 'out_call':
        this.outCall(message);
        return;
      case 'spans':
        callContextHook()?.receiveSpans?.(this.workerId, message.spans);
        return;
      case 'publish':
        try {
          this.services.publish(message.topic, message.payload);
        } catch (err) {
          this.logger.warn({ err, topic: message.topic }, 'a module published something the bus refused');
        }
        return;
      case 'subscribe':
        if (!this.subscriptions.has(message.topic) && !this.closed) {
          this.subscriptions.set(
            message.topic,
            this.services.subscribe(message.topic, (payload) => this.send({ t: 'event', topic: message.topic, payload })),
          );
        }
        return;
      case 'unsubscribe':
        this.subscriptions.get(message.topic)?.();
        this.subscriptions.delete(message.topic);
        return;
    }
  }

  /** A call the module makes: answered through the master like any call, whatever it targets. */
  private outCall(message: Extract<FromHost, { t: 'out_call' }>): void {
    const answer = (reply: ToHost): void => {
      try {
        this.transport.send(reply);
      } catch (error) {
        if (reply.t === 'out_result' && reply.ok) {
          const payload = hsuError('CALL_PAYLOAD', `result of ${message.target}.${message.a} cannot cross to the module: ${(error as Error).message}`, { target: message.target, action: message.a });
          this.send({ t: 'out_result', id: message.id, ok: false, error: serializeError(payload) });
        }
      }
    };
    const hook = message.c === undefined ? undefined : callContextHook();
    const call = (): Promise<unknown> => this.services.call(message.target, message.a, message.i, message.o);
    // The module's span is the parent of the master's call span: the trace goes on through the master.
    (hook === undefined || message.c === undefined ? call() : hook.extract(message.c, call)).then(
      (value) => answer({ t: 'out_result', id: message.id, ok: true, value }),
      (error: unknown) => answer({ t: 'out_result', id: message.id, ok: false, error: serializeError(error) }),
    );
  }

  /** Hot path: one message out, one in; timers only when the caller asked for a deadline. */
  call(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    if (this.closed || this.fatal !== undefined) return Promise.reject(this.interrupted(action));
    // Already aborted: refuse before anything is sent, so the action never runs (as inline).
    if (options?.signal?.aborted === true) {
      return Promise.reject(hsuError('CALL_ABORTED', `call ${this.workerId}.${action} was aborted`, { worker_id: this.workerId, action }, options.signal.reason));
    }
    const id = this.nextId++;
    let message: ToHost = needsDeadline(options) ? { t: 'call', id, a: action, i: input, s: 1 } : { t: 'call', id, a: action, i: input };
    const carrier = callContextHook()?.inject();
    if (carrier !== undefined) message = { ...message, c: carrier };
    const result = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject, call: true }));
    try {
      this.transport.send(message);
    } catch (error) {
      this.pending.delete(id);
      return Promise.reject(
        hsuError('CALL_PAYLOAD', `call ${this.workerId}.${action}: input cannot cross to the worker: ${(error as Error).message} (payloads cross by structured clone: no functions, symbols or class prototypes)`, { worker_id: this.workerId, action }, error),
      );
    }
    if (this.draining !== undefined) this.draining.left++;
    if (!needsDeadline(options)) return result;
    const deadline = createDeadline(this.workerId, action, options);
    return Promise.race([result, deadline.expired])
      .catch((error: unknown) => {
        if (this.pending.delete(id)) {
          if (!this.closed) this.send({ t: 'cancel', id, reason: serializeError(error) });
          if (this.draining !== undefined) this.callSettled();
        }
        throw error;
      })
      .finally(() => deadline.dispose());
  }

  /**
   * The module's isHealthy() over the channel; the entry is dropped when `signal` aborts: by the
   * probe's timeout, answered `'timeout'` as the host's own bound is; by anything else (a start
   * cancelled, the watchdog ending), `false`.
   */
  health(signal: AbortSignal, timeoutMs?: number): Promise<boolean | 'timeout'> {
    if (this.closed || this.fatal !== undefined) return Promise.resolve(false);
    const cutShort = (): 'timeout' | false => (isProbeTimeout(signal) ? 'timeout' : false);
    if (signal.aborted) return Promise.resolve(cutShort());
    const id = this.nextId++;
    return new Promise<boolean | 'timeout'>((resolve) => {
      const onAbort = (): void => {
        this.pending.delete(id);
        resolve(cutShort());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (ok: unknown): void => {
        signal.removeEventListener('abort', onAbort);
        resolve(ok === true || ok === 'timeout' ? ok : false);
      };
      this.pending.set(id, { resolve: settle, reject: () => settle(false) });
      this.send(timeoutMs === undefined ? { t: 'health', id } : { t: 'health', id, ms: timeoutMs });
    });
  }

  stop(): void {
    if (!this.closed) this.send({ t: 'stop' });
  }

  /**
   * Resolves once no call is in flight (health probes and facts requests do not count), or after
   * `maxMs`: a graceful stop lets the calls already sent finish before the module is told to stop.
   */
  drain(maxMs: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.draining === undefined) {
      let left = 0;
      for (const pending of this.pending.values()) if (pending.call === true) left++;
      if (left === 0) return Promise.resolve();
      this.draining = { left, waiters: new Set() };
    }
    const { waiters } = this.draining;
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxMs);
      waiters.add(done);
    });
  }

  private callSettled(): void {
    const draining = this.draining;
    if (draining === undefined || --draining.left > 0) return;
    this.endDrain();
  }

  private endDrain(): void {
    const waiters = this.draining?.waiters;
    this.draining = undefined;
    for (const waiter of [...(waiters ?? [])]) waiter();
  }

  /** The thread or process is gone: nothing in flight can complete. */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const dispose of this.subscriptions.values()) dispose();
    this.subscriptions.clear();
    this.rejectStarted(hsuError('START_FAILED', `worker '${this.workerId}' ended before it started: ${reason}`, { worker_id: this.workerId }));
    this.interruptAll(reason);
  }

  private interruptAll(reason: string): void {
    for (const [id, pending] of this.pending) {
      this.pending.delete(id);
      pending.reject(this.interrupted(undefined, reason));
    }
    this.endDrain();
  }

  /** Control messages carry no user payload; a failure to send means the host is going, which its exit reports. */
  private send(message: ToHost): void {
    try {
      this.transport.send(message);
    } catch (err) {
      this.logger.debug({ err, message: message.t }, 'control message could not be sent');
    }
  }

  private interrupted(action: string | undefined, reason = 'worker ended'): Error {
    return hsuError('CALL_INTERRUPTED', `worker '${this.workerId}' ended while a call was in flight${action ? ` (${action})` : ''}: ${reason}`, { worker_id: this.workerId, action });
  }
}

