import type { ActionMap, ActionsOf, WorkerModule } from './contract.js';

/**
 * Identity helper that gives a module its types: actions keep their input and output types so that
 * `master.client<typeof factory>(id)` can infer them.
 *
 * @example
 * export default () => defineModule({
 *   info: { name: 'greeter', version: '1.0.0' },
 *   start() {},
 *   actions: { greet: async (name: string) => `hello ${name}` },
 * });
 */
// `{}` is the honest default for "no actions declared"; Record<string, never> would break inference.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export function defineModule<Config = Record<string, unknown>, const Actions extends ActionMap = {}>(
  module: WorkerModule<Config, Actions>,
): WorkerModule<Config, Actions> {
  return module;
}

/** Structural check used by every loader: works across realms, unlike `instanceof`. */
export function isWorkerModule(value: unknown): value is WorkerModule {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Partial<WorkerModule>;
  return typeof m.start === 'function' && typeof m.info === 'object' && m.info !== null && typeof m.info.name === 'string';
}

export interface CallOptions {
  /** Milliseconds before the call rejects with HSU_ERR_CALL_TIMEOUT. */
  timeout?: number;
  /** Aborting rejects the call with HSU_ERR_CALL_ABORTED and tells the module through `call.signal`. */
  signal?: AbortSignal;
  /** Safe to run twice: a call to a service whose replica fails mid-call is retried on another. */
  idempotent?: boolean;
  /** Hash key for a service balanced by consistent hashing (overrides the balancer's `hash_key`). */
  key?: string;
}

/** The typed proxy returned by `master.client<typeof module>(id)`. */
export type Client<T> = {
  [K in keyof ActionsOf<T>]: ClientMethod<ActionsOf<T>[K]>;
};

/** Actions without an input (or with an optional one) can be called without an argument. */
type ClientMethod<F> = F extends (...args: infer P) => infer Out
  ? P extends []
    ? (input?: undefined, options?: CallOptions) => Promise<Awaited<Out>>
    : undefined extends P[0]
      ? (input?: P[0], options?: CallOptions) => Promise<Awaited<Out>>
      : (input: P[0], options?: CallOptions) => Promise<Awaited<Out>>
  : never;
