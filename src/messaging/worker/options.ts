/** The shapes a command worker is built from, and their defaults. */
import type { DatabaseSync } from 'node:sqlite';
import type { ModuleLogger } from '../../worker/contract.js';
import type { CommandType } from '../commands.js';
import type { Executor, Message } from '../executor.js';
import type { MessageLog } from '../message-log.js';

export interface HandlerContext<S = unknown> {
  /** Fires when the worker stops (the message is delivered again later) or the handler timed out. */
  readonly signal: AbortSignal;
  /** 1 on the first delivery; counts retries, re-drives and runs that died with the message in flight (an upper bound after a crash). */
  readonly delivery: number;
  /** True when an earlier run may already have handed this message to a handler. */
  readonly redelivered: boolean;
  readonly worker: string;
  readonly state: S;
  // `any`: a handler of any executor's worker may execute commands; the worker does not constrain it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly executor: Executor<any, any> | undefined;
  readonly logger: ModuleLogger;
  /**
   * Exactly-once mode only: the log's connection, inside the transaction that also commits the
   * checkpoint. Write your tables through it; the handler must be synchronous.
   */
  readonly db: DatabaseSync | undefined;
}

export type CommandHandler<C, S = unknown> = (command: C, message: Message, ctx: HandlerContext<S>) => void | Promise<void>;

export interface PeriodicContext<S = unknown> {
  readonly signal: AbortSignal;
  readonly state: S;
  readonly logger: ModuleLogger;
}

export type PeriodicWork<S = unknown> = (ctx: PeriodicContext<S>) => void | Promise<void>;

export interface RetryOptions {
  /** Deliveries of one message before it goes to the dead letters. Default 5. */
  readonly maxAttempts?: number;
  /** Wait before the first retry; doubles each retry (with jitter). Default 100 ms. */
  readonly backoffMs?: number;
  /** Cap of the wait between retries. Default 10 000 ms. */
  readonly maxBackoffMs?: number;
}

export interface CommandWorkerOptions<T extends CommandType = CommandType, S = unknown> {
  /** The consumer name: the checkpoint and dead letters are kept under it. Unique per log. */
  readonly name: string;
  readonly description?: string;
  readonly version?: string;
  readonly state: S;
  readonly log: MessageLog<T>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly executor?: Executor<any, any>;
  readonly retry?: RetryOptions;
  /** A handler still pending after this long is aborted and counted as a failed delivery. Default 30 000 ms. */
  readonly handlerTimeoutMs?: number;
  /** How long stop() waits for a cancelled handler to settle before it gives up on it. Default 5000 ms. */
  readonly stopGraceMs?: number;
  /** Records read at once; under load this is the batch a checkpoint write covers. Default 1000. */
  readonly batchSize?: number;
  /** Longest time handled messages stay unpersisted (redelivered after a crash). Default 100 ms. */
  readonly checkpointIntervalMs?: number;
  /** Handler writes and checkpoint in one transaction (SqliteMessageLog only, synchronous handlers). */
  readonly exactlyOnce?: boolean;
  /** Close the log when the worker stops (a worker built by a plugin factory owns its log). */
  readonly ownsLog?: boolean;
  /** For use outside a master; inside one, the module context's logger is used. */
  readonly logger?: ModuleLogger;
}

export interface ResolvedSettings {
  readonly maxAttempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  readonly handlerTimeoutMs: number;
  readonly stopGraceMs: number;
  readonly batchSize: number;
  readonly checkpointIntervalMs: number;
}

export function resolveSettings(options: CommandWorkerOptions<CommandType, unknown>): ResolvedSettings {
  return {
    maxAttempts: options.retry?.maxAttempts ?? 5,
    backoffMs: options.retry?.backoffMs ?? 100,
    maxBackoffMs: options.retry?.maxBackoffMs ?? 10_000,
    handlerTimeoutMs: options.handlerTimeoutMs ?? 30_000,
    stopGraceMs: options.stopGraceMs ?? 5000,
    batchSize: options.batchSize ?? 1000,
    checkpointIntervalMs: options.checkpointIntervalMs ?? 100,
  };
}

/** Exponential backoff with "equal jitter": half fixed, half random, so retries of many workers spread. */
export function backoffDelay(settings: ResolvedSettings, failedAttempts: number): number {
  const full = Math.min(settings.maxBackoffMs, settings.backoffMs * 2 ** Math.max(0, failedAttempts - 1));
  return full / 2 + Math.random() * (full / 2);
}

/** Silent logger for a worker used outside a master without one. */
export const SILENT_LOGGER: ModuleLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
  child: () => SILENT_LOGGER,
};
