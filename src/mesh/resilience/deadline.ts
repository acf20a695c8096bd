/**
 * The caller's deadline for a whole call (`options.timeout`, `options.signal`): one timer and one
 * abort listener per call that asks for them, both removed when the call settles. Attempts inside
 * receive the deadline's signal, so an attempt in flight is aborted when the call gives up.
 */
import { hsuError } from '../../errors.js';

export interface DeadlineScope {
  readonly service: string;
  readonly action: string;
}

export function withCallDeadline<T>(scope: DeadlineScope, timeout: number | undefined, external: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    const fire = (error: Error): void => {
      controller.abort(error);
      reject(error);
    };
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        fire(hsuError('CALL_TIMEOUT', `call ${scope.service}.${scope.action} timed out after ${timeout} ms`, { ...scope, timeout_ms: timeout, scope: 'call' }));
      }, timeout);
    }
    if (external !== undefined) {
      onAbort = (): void => fire(hsuError('CALL_ABORTED', `call ${scope.service}.${scope.action} was aborted`, { ...scope }, external.reason));
      if (external.aborted) onAbort();
      else external.addEventListener('abort', onAbort, { once: true });
    }
  });
  expired.catch(() => undefined); // the loser of the race must not be an unhandled rejection
  const dispose = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    if (onAbort !== undefined) external?.removeEventListener('abort', onAbort);
  };
  if (controller.signal.aborted) {
    dispose();
    return expired;
  }
  return Promise.race([run(controller.signal), expired]).finally(dispose);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts; nothing is left behind either way. */
export function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 && signal?.aborted !== true) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
