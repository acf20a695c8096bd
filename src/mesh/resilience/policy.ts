/**
 * The resilience of one service, built from its `resilience:` block on cockatiel. Two layers:
 *
 * - `run(request, attempt)` wraps the whole call: the caller's deadline, then the bulkhead, then
 *   the retry loop, which calls `attempt` again (the router picks again, avoiding failed instances).
 * - `guard(key, invoke, signal)` wraps one attempt on one instance: its circuit breaker, then the
 *   per-attempt timeout, so that a timeout counts as a failure of that instance.
 *
 * Why the bulkhead is the outermost policy: it bounds concurrent *calls*, so a retry keeps the slot
 * its call holds and a retry storm cannot multiply the load on the service; and a call shed by a
 * full bulkhead fails fast, before it spends retry budget or counts against any breaker (being
 * busy on our side says nothing about a replica). The caller's deadline is outside even that: it
 * is the caller's time, queueing included.
 *
 * Retry is a loop here rather than cockatiel's RetryPolicy: cockatiel's backoff delay cannot be
 * aborted (a caller that gave up, or `close()`, would leave its timer running) and its filter is
 * fixed at construction, while retryability depends on the call (idempotent or not). The delays
 * themselves come from cockatiel's ExponentialBackoff.
 */
import type { BulkheadPolicy, IBackoff, IBackoffFactory, TimeoutPolicy } from 'cockatiel';
import { hsuError } from '../../errors.js';
import { cockatielLib } from '../../lazy-libs.js';
import type { CallRequest } from '../call.js';
import { parseBlock } from '../config.js';
import { failedInstanceOf } from '../failed-instance.js';
import { BreakerSet, type BreakerDiagnostics, type CircuitStateEvent } from './breakers.js';
import { codeOf, isRetryable } from './classify.js';
import { abortableDelay, withCallDeadline } from './deadline.js';
import { resilienceSchema, type ResilienceConfig, type ResilienceConfigInput } from './schema.js';

export type ResilienceEvent =
  | CircuitStateEvent
  | {
      readonly type: 'retry';
      readonly service: string;
      readonly action: string;
      readonly attempt: number;
      readonly delay_ms: number;
      readonly code: string | undefined;
      readonly failed_instance: string | undefined;
    }
  | { readonly type: 'bulkhead_rejected'; readonly service: string; readonly action: string; readonly max_concurrent: number; readonly queue: number };

export interface ResilienceDiagnostics {
  readonly timeout_ms: number | undefined;
  readonly retry: { readonly max_attempts: number; readonly retries: number; readonly gave_up: number };
  readonly bulkhead?: { readonly max_concurrent: number; readonly queue: number; readonly active: number; readonly queued: number; readonly rejected: number };
  readonly circuit_breakers?: Record<string, BreakerDiagnostics>;
}

export interface ResiliencePolicyOptions {
  readonly emit?: (event: ResilienceEvent) => void;
  /** Where config issues are said to be. Default `resilience`. */
  readonly where?: string;
}

/** cockatiel's jitter generator for the config's name (cockatiel loads with the first policy that needs it). */
function jitterGenerator(name: 'none' | 'full' | 'decorrelated'): unknown {
  const c = cockatielLib();
  return { none: c.noJitterGenerator, full: c.fullJitterGenerator, decorrelated: c.decorrelatedJitterGenerator }[name];
}

export class ResiliencePolicy {
  readonly config: ResilienceConfig;
  readonly breakers: BreakerSet | undefined;
  private readonly bulkhead: BulkheadPolicy | undefined;
  private readonly attemptTimeout: TimeoutPolicy | undefined;
  /** Made at the first retry: most services never retry, and then need no cockatiel at all. */
  private backoff: IBackoffFactory<unknown> | undefined;
  private readonly codes: ReadonlySet<string>;
  private readonly idempotent: ReadonlySet<string>;
  private readonly maxAttempts: number;
  private readonly emit: (event: ResilienceEvent) => void;
  private readonly closing = new AbortController();
  private retries = 0;
  private gaveUp = 0;
  private rejected = 0;

  constructor(
    readonly service: string,
    config: ResilienceConfigInput = {},
    options: ResiliencePolicyOptions = {},
  ) {
    this.config = parseBlock(resilienceSchema, config, options.where ?? 'resilience');
    this.emit = options.emit ?? (() => undefined);
    const { retry, bulkhead, circuit_breaker: breaker } = this.config;
    this.maxAttempts = retry.max_attempts;
    this.codes = new Set(retry.on);
    this.idempotent = new Set(this.config.idempotent_actions);
    this.bulkhead = bulkhead === undefined ? undefined : new (cockatielLib().BulkheadPolicy)(bulkhead.max_concurrent, bulkhead.queue);
    // Not aborted on return: an aborted inner signal then means exactly "timed out or caller aborted".
    this.attemptTimeout = this.config.timeout === undefined ? undefined : cockatielLib().timeout(this.config.timeout, { strategy: cockatielLib().TimeoutStrategy.Aggressive, abortOnReturn: false });
    this.breakers = breaker === undefined ? undefined : new BreakerSet(service, breaker, (event) => this.emit(event));
  }

  /** True when `guard` does nothing (no breaker, no timeout): the router then skips it. */
  get guardsAttempts(): boolean {
    return this.breakers !== undefined || this.attemptTimeout !== undefined;
  }

  /** True when a call without its own deadline needs nothing but the retry loop (no bulkhead). */
  get retriesOnly(): boolean {
    return this.bulkhead === undefined;
  }

  get retryEnabled(): boolean {
    return this.maxAttempts > 1;
  }

  isIdempotent(request: CallRequest): boolean {
    return request.options.idempotent ?? this.idempotent.has(request.action);
  }

  /** Listed in `idempotent_actions`. */
  idempotentAction(action: string): boolean {
    return this.idempotent.has(action);
  }

  /** The whole call: deadline → bulkhead → retry loop around `attempt`. */
  run<T>(request: CallRequest, attempt: (request: CallRequest) => Promise<T>): Promise<T> {
    if (this.closing.signal.aborted) return Promise.reject(this.closedError());
    const options = request.options;
    if (options.timeout === undefined && options.signal === undefined) return this.admit(request, attempt);
    return withCallDeadline({ service: this.service, action: request.action }, options.timeout, options.signal, (signal) =>
      this.admit({ ...request, options: { ...options, timeout: undefined, signal } }, attempt),
    );
  }

  /** One attempt on the instance `key`: breaker → attempt timeout → `invoke(signal)`. */
  guard<T>(key: string, invoke: (signal: AbortSignal | undefined) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const timed = this.attemptTimeout === undefined ? () => invoke(signal) : () => this.timed(key, invoke, signal);
    return this.breakers === undefined ? timed() : this.breakers.execute(key, timed, signal);
  }

  diagnostics(): ResilienceDiagnostics {
    const bulkhead = this.config.bulkhead;
    return {
      timeout_ms: this.config.timeout,
      retry: { max_attempts: this.maxAttempts, retries: this.retries, gave_up: this.gaveUp },
      ...(bulkhead === undefined || this.bulkhead === undefined
        ? {}
        : {
            bulkhead: {
              max_concurrent: bulkhead.max_concurrent,
              queue: bulkhead.queue,
              active: bulkhead.max_concurrent - this.bulkhead.executionSlots,
              queued: bulkhead.queue - this.bulkhead.queueSlots,
              rejected: this.rejected,
            },
          }),
      ...(this.breakers === undefined ? {} : { circuit_breakers: this.breakers.diagnostics() }),
    };
  }

  /** Pending backoff delays end at once with MESH_CLOSED; breakers are dropped. */
  close(): void {
    if (this.closing.signal.aborted) return;
    this.closing.abort(this.closedError());
    this.breakers?.close();
  }

  private admit<T>(request: CallRequest, attempt: (request: CallRequest) => Promise<T>): Promise<T> {
    const bulkhead = this.bulkhead;
    if (bulkhead === undefined) return this.retrying(request, attempt);
    return bulkhead.execute(() => this.retrying(request, attempt), request.options.signal ?? this.closing.signal).catch((error: unknown) => {
      throw this.bulkheadError(error, request);
    });
  }

  private retrying<T>(request: CallRequest, attempt: (request: CallRequest) => Promise<T>): Promise<T> {
    let first: Promise<T>;
    try {
      first = attempt(request);
    } catch (error) {
      first = Promise.reject(error as Error);
    }
    if (this.maxAttempts <= 1) return first;
    return first.catch((error: unknown) => this.recover(error, request, attempt));
  }

  /**
   * After `request`'s attempt failed with `error`: retries while the failure allows it, or rethrows.
   * Public for the router's fast path, which makes its first attempt without building a request.
   */
  async recover<T>(error: unknown, request: CallRequest, attempt: (request: CallRequest) => Promise<T>): Promise<T> {
    const idempotent = this.isIdempotent(request);
    const signal = request.options.signal === undefined ? this.closing.signal : AbortSignal.any([request.options.signal, this.closing.signal]);
    const avoid: string[] = [...(request.avoid ?? [])];
    let backoff: IBackoff<unknown> | undefined;
    for (let n = 1; ; n++) {
      const failed = failedInstanceOf(error);
      if (failed !== undefined && !avoid.includes(failed)) avoid.push(failed);
      if (n >= this.maxAttempts || signal.aborted || !isRetryable(error, idempotent, this.codes)) {
        if (n > 1) this.gaveUp++;
        throw error;
      }
      if (backoff === undefined) {
        const { initial, max } = this.config.retry.backoff;
        this.backoff ??= new (cockatielLib().ExponentialBackoff)({ initialDelay: initial, maxDelay: max, generator: jitterGenerator(this.config.retry.jitter) as never });
        backoff = this.backoff.next(undefined);
      } else backoff = backoff.next(undefined);
      this.retries++;
      this.emit({ type: 'retry', service: this.service, action: request.action, attempt: n + 1, delay_ms: backoff.duration, code: codeOf(error), failed_instance: failed });
      await abortableDelay(backoff.duration, signal);
      try {
        return await attempt({ ...request, attempt: n + 1, avoid });
      } catch (next) {
        error = next;
      }
    }
  }

  private async timed<T>(key: string, invoke: (signal: AbortSignal | undefined) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const policy = this.attemptTimeout as TimeoutPolicy;
    let attemptSignal: AbortSignal | undefined;
    try {
      return await policy.execute((_context, inner) => {
        attemptSignal = inner;
        return invoke(inner);
      }, signal);
    } catch (error) {
      // The invoked replica may reject with the abort reason before cockatiel's own TaskCancelledError wins the race.
      if (!cockatielLib().isTaskCancelledError(error) && attemptSignal?.aborted !== true) throw error;
      // The caller's deadline fired (its signal is the parent): report that, not an attempt timeout.
      if (signal?.aborted === true) throw signal.reason as Error;
      throw hsuError('CALL_TIMEOUT', `${this.service} instance '${key}' did not answer within ${this.config.timeout} ms`, {
        service: this.service,
        instance_id: key,
        timeout_ms: this.config.timeout,
        scope: 'attempt',
      });
    }
  }

  private bulkheadError(error: unknown, request: CallRequest): unknown {
    if (cockatielLib().isBulkheadRejectedError(error)) {
      const { max_concurrent, queue } = this.config.bulkhead ?? { max_concurrent: 0, queue: 0 };
      this.rejected++;
      this.emit({ type: 'bulkhead_rejected', service: this.service, action: request.action, max_concurrent, queue });
      return hsuError('BULKHEAD_FULL', `${this.service}: ${max_concurrent} call(s) running and ${queue} queued; call ${request.action} refused`, {
        service: this.service,
        action: request.action,
        max_concurrent,
        queue,
      });
    }
    // Cancelled while queued: by the caller's deadline or by close().
    if (cockatielLib().isTaskCancelledError(error)) return (request.options.signal?.reason as Error | undefined) ?? this.closedError();
    return error;
  }

  private closedError(): Error {
    return hsuError('MESH_CLOSED', `the resilience policy of ${this.service} is closed`, { service: this.service });
  }
}
