/**
 * The unit of composition for calls: a request and middleware around `next`. The router is the
 * terminal of its own chain; the master can put the same middleware (tracing, resilience) around
 * `master.call`. Chains are composed once, not per call.
 */

export interface CallRequestOptions {
  /** Milliseconds for the whole call (queueing, every attempt, backoff): then HSU_ERR_CALL_TIMEOUT. */
  readonly timeout?: number;
  /** Aborting rejects the call with HSU_ERR_CALL_ABORTED and aborts the attempt in flight. */
  readonly signal?: AbortSignal;
  /** The action is safe to run twice: failures of a replica mid-call are retried on another one. */
  readonly idempotent?: boolean;
  /** Hash key for consistent hashing (overrides `balancer.hash_key`). */
  readonly key?: string;
}

export interface CallRequest {
  readonly service: string;
  readonly action: string;
  readonly input: unknown;
  readonly options: CallRequestOptions;
  /** 1 for the first attempt; retries count up. */
  readonly attempt?: number;
  /** Instances that failed this call already: the router avoids them while another one is eligible. */
  readonly avoid?: readonly string[];
}

export type CallNext = (request: CallRequest) => Promise<unknown>;
export type CallMiddleware = (request: CallRequest, next: CallNext) => Promise<unknown>;

/** `[a, b]` around `terminal` runs a → b → terminal; built once, each call is a chain of plain calls. */
export function composeMiddleware(middleware: readonly CallMiddleware[], terminal: CallNext): CallNext {
  let next = terminal;
  for (let i = middleware.length - 1; i >= 0; i--) {
    const layer = middleware[i] as CallMiddleware;
    const inner = next;
    next = (request) => {
      try {
        return layer(request, inner);
      } catch (error) {
        return Promise.reject(error as Error);
      }
    };
  }
  return next;
}

/** Shared empty options: calls without options allocate none. */
export const NO_OPTIONS: CallRequestOptions = Object.freeze({});
