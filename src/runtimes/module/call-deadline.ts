/**
 * Timeouts and aborts for calls, shared by every deployment. The fast path (no timeout, no signal)
 * allocates nothing; only calls that ask for a deadline pay for timers and controllers.
 */
import { hsuError } from '../../errors.js';
import type { CallOptions } from '../../worker/define.js';

export interface Deadline {
  /** Signal handed to the action; aborts on timeout or caller abort. */
  readonly signal: AbortSignal;
  /** Rejects with CALL_TIMEOUT / CALL_ABORTED; never resolves. */
  readonly expired: Promise<never>;
  dispose(): void;
}

export function createDeadline(workerId: string, action: string, options: CallOptions): Deadline {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    const fire = (err: Error): void => {
      controller.abort(err);
      reject(err);
    };
    if (options.timeout !== undefined) {
      timer = setTimeout(() => {
        fire(hsuError('CALL_TIMEOUT', `call ${workerId}.${action} timed out after ${options.timeout} ms`, { worker_id: workerId, action, timeout_ms: options.timeout }));
      }, options.timeout);
    }
    const external = options.signal;
    if (external !== undefined) {
      onAbort = (): void => fire(hsuError('CALL_ABORTED', `call ${workerId}.${action} was aborted`, { worker_id: workerId, action }, external.reason));
      if (external.aborted) onAbort();
      else external.addEventListener('abort', onAbort, { once: true });
    }
  });
  // The race loser must not surface as an unhandled rejection.
  expired.catch(() => undefined);
  return {
    signal: controller.signal,
    expired,
    dispose(): void {
      if (timer !== undefined) clearTimeout(timer);
      if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
    },
  };
}

export function needsDeadline(options: CallOptions | undefined): options is CallOptions {
  return options !== undefined && (options.timeout !== undefined || options.signal !== undefined);
}

/** Races `run(signal)` against the deadline and always cleans up the timer and listener. */
export function withDeadline<T>(workerId: string, action: string, options: CallOptions, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = createDeadline(workerId, action, options);
  if (deadline.signal.aborted) {
    deadline.dispose();
    return deadline.expired;
  }
  return Promise.race([run(deadline.signal), deadline.expired]).finally(() => deadline.dispose());
}
