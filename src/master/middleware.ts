/**
 * Call middleware: everything that wraps `master.call` (tracing, resilience, balancing across
 * replicas) plugs in here, as `(request, next) => result`. The chain is composed once when a
 * middleware is added, and with none the master calls the worker directly, so an unused seam
 * costs nothing on the hot path.
 */
import type { CallOptions } from '../worker/define.js';

export interface CallRequest {
  /** The worker id (or, once a balancer resolves it, a service name). */
  readonly target: string;
  readonly action: string;
  readonly input: unknown;
  readonly options: CallOptions | undefined;
}

export type CallNext = (request: CallRequest) => Promise<unknown>;
export type CallMiddleware = (request: CallRequest, next: CallNext) => Promise<unknown>;

/** Composes `middlewares` (first added runs outermost) around `innermost`. */
export function compose(middlewares: readonly CallMiddleware[], innermost: CallNext): CallNext {
  let next = innermost;
  for (let i = middlewares.length - 1; i >= 0; i--) {
    const middleware = middlewares[i]!;
    const inner = next;
    next = (request) => {
      try {
        return middleware(request, inner);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
  }
  return next;
}
