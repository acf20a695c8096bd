/**
 * The write side: `execute(command)` validates, optionally checks the command against the current
 * state, appends it, then applies it to the in-memory state. The state is a fold of the log, so
 * `replay()` at start-up rebuilds it; commands appended by other processes are applied in id order
 * before the caller's own.
 */
import { hsuError, isHsuError, serializeError } from '../errors.js';
import type { Command, CommandInputOf, CommandOf, CommandRegistry, CommandType } from './commands.js';
import type { LogRecord, MessageLog } from './message-log.js';

/** Message metadata handed to apply functions and handlers. */
export interface Message {
  readonly id: number;
  readonly name: string;
  readonly appended_at: number;
}

export type ApplyFn<S, C> = (state: S, command: C, message: Message) => void;
/** Runs before the append; throw (ideally a coded error) to refuse the command. */
export type CheckFn<S, C> = (state: S, command: C) => void;

export interface ExecutorOptions<T extends CommandType, S> {
  readonly log: MessageLog<T>;
  readonly state: S;
  /** Dead letters of commands that cannot be applied are kept under this consumer name. Default 'executor'. */
  readonly name?: string;
}

interface Registration<S> {
  readonly apply: ApplyFn<S, Command>;
  readonly check: CheckFn<S, Command> | undefined;
}

type Named<T, N> = Extract<CommandOf<T>, { name: N }>;

export class Executor<T extends CommandType = CommandType, S = unknown> {
  readonly state: S;
  readonly name: string;
  private readonly log: MessageLog<T>;
  private readonly registry: CommandRegistry<T>;
  private readonly handlers = new Map<string, Registration<S>>();
  private applied = 0;
  /** Every message up to this id has been folded into the state. */
  private position = 0;
  private applyFailures = 0;
  private undecodable = 0;
  private lastError: Record<string, unknown> | null = null;
  private catchingUp: Promise<void> = Promise.resolve();
  /** Ids of executes in flight, with the apply error of each once it is known. */
  private readonly awaiting = new Map<number, Error | undefined>();

  constructor(options: ExecutorOptions<T, S>) {
    if (options.log.commands === undefined) {
      throw hsuError('COMMAND_WORKER_INVALID', 'an Executor needs a log opened with `commands` (a CommandRegistry)', {});
    }
    this.log = options.log;
    this.registry = options.log.commands;
    this.state = options.state;
    this.name = options.name ?? 'executor';
  }

  /** Registers how a command type changes the state (and optionally what it must satisfy first). */
  onApply<N extends T['name']>(name: N, apply: ApplyFn<S, Named<T, N>>, options: { check?: CheckFn<S, Named<T, N>> } = {}): this {
    if (!this.registry.has(name)) {
      throw hsuError('COMMAND_UNKNOWN', `executor '${this.name}': no command type named '${name}' is registered`, { name, registered: this.registry.names });
    }
    if (this.handlers.has(name)) {
      throw hsuError('HANDLER_EXISTS', `executor '${this.name}': '${name}' already has an apply function`, { name });
    }
    this.handlers.set(name, { apply: apply as ApplyFn<S, Command>, check: options.check as CheckFn<S, Command> | undefined });
    return this;
  }

  /** Folds every message not yet applied (at start-up: the whole log) into the state. */
  replay(): Promise<void> {
    return this.catchUp();
  }

  /**
   * Validates, checks, appends and applies one command. Rejects with COMMAND_UNKNOWN,
   * COMMAND_INVALID, the check's own error (COMMAND_REJECTED when it threw an uncoded one), a
   * MESSAGE_LOG_* error, or EXECUTOR_APPLY_FAILED (the command is logged; the state skipped it).
   */
  async execute(command: CommandInputOf<T>): Promise<{ id: number }> {
    const registration = this.handlers.get(command.name);
    if (registration?.check !== undefined) {
      await this.catchUp();
      this.runCheck(registration.check, this.registry.parse(command));
    }
    const id = await this.log.append(command);
    this.awaiting.set(id, undefined);
    try {
      await this.catchUp();
      const failure = this.awaiting.get(id);
      if (failure !== undefined) throw failure;
    } finally {
      this.awaiting.delete(id);
    }
    return { id };
  }

  diagnostics(): Record<string, unknown> {
    return { name: this.name, applied: this.applied, position: this.position, apply_failures: this.applyFailures, undecodable: this.undecodable, last_error: this.lastError };
  }

  /** One catch-up at a time, so concurrent executes apply in id order exactly once. */
  private catchUp(): Promise<void> {
    this.catchingUp = this.catchingUp.then(() => this.applyAvailable());
    return this.catchingUp;
  }

  private async applyAvailable(): Promise<void> {
    for (;;) {
      const records = await this.log.read(this.position, 1000);
      for (const record of records) await this.applyRecord(record);
      if (records.length < 1000) return;
    }
  }

  private async applyRecord(record: LogRecord): Promise<void> {
    this.position = record.id;
    const registration = this.handlers.get(record.name);
    if (registration === undefined) return;
    const decoded = this.registry.decode(record);
    if (!decoded.ok) {
      this.undecodable++;
      await this.keep(record, decoded.error);
      return;
    }
    try {
      registration.apply(this.state, decoded.command, { id: record.id, name: record.name, appended_at: record.appended_at });
      this.applied++;
    } catch (err) {
      this.applyFailures++;
      const error = hsuError('EXECUTOR_APPLY_FAILED', `executor '${this.name}': command ${record.id} ('${record.name}') is logged but its apply function failed: ${(err as Error)?.message ?? String(err)}`, { message_id: record.id, name: record.name }, err);
      if (this.awaiting.has(record.id)) this.awaiting.set(record.id, error);
      await this.keep(record, error);
    }
  }

  /**
   * A message the state could not take is kept as a dead letter for inspection (every replay skips
   * it alike and adds one to its attempts); the executor has no checkpoint to move.
   */
  private async keep(record: LogRecord, error: Error & { code?: string }): Promise<void> {
    const serialized = serializeError(error);
    this.lastError = { message_id: record.id, code: serialized.code, error_message: serialized.message, at: Date.now() };
    await this.log.consumers.deadLetter(this.name, {
      message_id: record.id, name: record.name, data: record.data, appended_at: record.appended_at,
      error_code: serialized.code, error_message: serialized.message, attempts: 1,
    });
  }

  private runCheck(check: CheckFn<S, Command>, command: Command): void {
    try {
      check(this.state, command);
    } catch (err) {
      if (isHsuError(err)) throw err;
      throw hsuError('COMMAND_REJECTED', `executor '${this.name}': '${command.name}' rejected: ${(err as Error)?.message ?? String(err)}`, { name: command.name }, err);
    }
  }
}
