/**
 * Waiting without sleeping: a condition is checked at once and again after every event the master
 * publishes (and every log record), and fails with TEST_TIMEOUT naming what was awaited and what
 * happened meanwhile. Every timer and listener is removed however the wait ends.
 */
import { hsuError } from '../errors.js';
import type { Master } from '../master/master.js';
import type { LogCapture } from './log-capture.js';

/** Default bound of a wait: generous, since only a hang should ever reach it. */
export const DEFAULT_WAIT_MS = 10_000;

const EVENT_NAMES = ['state', 'exit', 'restart', 'health', 'added', 'removed', 'output'] as const;

export interface WaitOptions {
  /** Default 10 s. */
  readonly timeout?: number;
  /** Also re-check this often, for conditions no event announces (a file's content, a port). */
  readonly poll?: number;
  readonly signal?: AbortSignal;
}

/**
 * Resolves with the first value of `pick()` that is not undefined or false; `describe()` is added
 * to the timeout's message (the recent transitions, for instance).
 */
export function waitUntil<T>(master: Master, logs: LogCapture | undefined, what: string, pick: () => T | undefined | false, options: WaitOptions = {}, describe: () => string = () => ''): Promise<T> {
  const first = pick();
  if (first !== undefined && first !== false) return Promise.resolve(first);
  const timeoutMs = options.timeout ?? DEFAULT_WAIT_MS;
  return new Promise<T>((resolve, reject) => {
    const offs: (() => void)[] = [];
    const finish = (): void => {
      for (const off of offs) off();
      clearTimeout(timer);
      clearInterval(poll);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const check = (): void => {
      let value: T | undefined | false;
      try {
        value = pick();
      } catch (error) {
        finish();
        reject(error as Error);
        return;
      }
      if (value === undefined || value === false) return;
      finish();
      resolve(value);
    };
    const onAbort = (): void => {
      finish();
      reject(options.signal?.reason as Error);
    };
    for (const name of EVENT_NAMES) offs.push(master.on(name, check));
    if (logs !== undefined) offs.push(logs.onRecord(check));
    const timer = setTimeout(() => {
      finish();
      const extra = describe();
      reject(hsuError('TEST_TIMEOUT', `timed out after ${timeoutMs} ms waiting for ${what}${extra === '' ? '' : `; ${extra}`}`, { what, timeout_ms: timeoutMs }));
    }, timeoutMs);
    const poll = options.poll === undefined ? undefined : setInterval(check, options.poll);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
