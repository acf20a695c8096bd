/**
 * The backend-neutral face of a durable message log and of the consumer state kept beside it.
 * SQLite (`node:sqlite`) implements it for one machine; a JetStream backend implements the same
 * interfaces for a cluster, so nothing here names a storage type.
 */
import type { CommandInputOf, CommandRegistry, CommandType } from './commands.js';

/** What a log stores for one message. `data` is the payload's JSON text, decoded by the registry at read. */
export interface LogRecord {
  /** Positive, strictly increasing in commit order; a reader never sees a smaller id appear later. */
  readonly id: number;
  readonly name: string;
  readonly data: string;
  /** Milliseconds since the epoch, taken by the appender. */
  readonly appended_at: number;
}

export interface RecordsOptions {
  /** Keep waiting for new records at the end instead of finishing (the log's wake-up, no polling delay). */
  readonly follow?: boolean;
  /** Ends the iteration (a following iteration waits on it). */
  readonly signal?: AbortSignal;
  /** Records fetched per read. Default 1000. */
  readonly batch?: number;
}

export interface MessageLog<T extends CommandType = CommandType> {
  /** The command types appends are validated against (and reads decoded with). */
  readonly commands: CommandRegistry<T> | undefined;
  /** Validates and stores one command; resolves with its id once it is durable. */
  append(command: CommandInputOf<T>): Promise<number>;
  /** Validates every command first, then stores all or none; ids in the given order. */
  appendBatch(commands: readonly CommandInputOf<T>[]): Promise<number[]>;
  /** Up to `limit` records with an id greater than `after`, in id order. */
  read(after: number, limit?: number): Promise<LogRecord[]>;
  /** The records after `after` in id order as an async iteration (batched underneath). */
  records(after?: number, options?: RecordsOptions): AsyncIterableIterator<LogRecord>;
  /** The highest id stored, 0 for an empty log. */
  head(): Promise<number>;
  /**
   * Calls `listener` soon after any change to the log or its consumer state, whoever made it
   * (this process or another one). Returns the unsubscribe function.
   */
  watch(listener: () => void): () => void;
  /** Checkpoints and dead letters of the consumers reading this log. */
  readonly consumers: ConsumerStore;
  close(): Promise<void>;
}

/**
 * Where a consumer stands. `last_id`: every record up to it is handled. `lease_to`: records up to it
 * may have been handed to a handler. `lease_runs`: how many runs ended (crashed) while the record
 * after `last_id` was leased; it makes delivery counts survive crashes and finds poison messages.
 */
export interface ConsumerPosition {
  readonly last_id: number;
  readonly lease_to: number;
  readonly lease_runs: number;
}

export type DeadLetterState = 'dead' | 'redrive' | 'redriven';

export interface DeadLetter {
  readonly consumer: string;
  readonly message_id: number;
  readonly name: string;
  readonly data: string;
  readonly appended_at: number;
  readonly error_code: string;
  readonly error_message: string;
  /** Deliveries that failed, over every run and re-drive. */
  readonly attempts: number;
  readonly state: DeadLetterState;
  readonly dead_at: number;
  readonly redriven_at: number | null;
}

export type NewDeadLetter = Omit<DeadLetter, 'consumer' | 'state' | 'dead_at' | 'redriven_at'>;

export interface DeadLetterQuery {
  readonly state?: DeadLetterState;
  /** Only letters of messages with a greater id (paging). */
  readonly after?: number;
  /** Default 100. */
  readonly limit?: number;
}

export type RedriveOutcome = { readonly ok: true } | { readonly ok: false; readonly error_code: string; readonly error_message: string; readonly attempts: number };

export interface ConsumerStore {
  /**
   * The consumer's position, created at 0 for a new consumer. When the previous run died holding a
   * lease, `lease_runs` is incremented and persisted first, so a crash loop is counted.
   */
  open(consumer: string): Promise<ConsumerPosition>;
  save(consumer: string, position: ConsumerPosition): Promise<void>;
  /** Records a dead letter and, in the same commit, moves the consumer to `position` (when given). */
  deadLetter(consumer: string, letter: NewDeadLetter, position?: ConsumerPosition): Promise<void>;
  listDeadLetters(consumer: string, query?: DeadLetterQuery): Promise<DeadLetter[]>;
  /** Marks dead letters (all when `message_ids` is absent) for another delivery; resolves with how many. */
  requestRedrive(consumer: string, message_ids?: readonly number[]): Promise<number>;
  /** Letters waiting for re-delivery, oldest message first. */
  pendingRedrives(consumer: string, limit: number): Promise<DeadLetter[]>;
  settleRedrive(consumer: string, message_id: number, outcome: RedriveOutcome): Promise<void>;
}
