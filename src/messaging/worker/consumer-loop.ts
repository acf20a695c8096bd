/**
 * The delivery loop of one command worker: read after the checkpoint, lease the batch, hand each
 * message to its handler in id order, retry with backoff, bury what keeps failing, persist the
 * checkpoint only past handled messages. At-least-once; exactly-once lives in exactly-once.ts.
 *
 * Checkpoint writes are few, because every one competes with the appenders for SQLite's single
 * write lock: one per new lease (a batch, or a batch ahead at the head of the log), and progress
 * at most once per `checkpointIntervalMs` (also when idle). After a crash, the leased but
 * unfinished range is replayed one message at a time with a write after each, so a message that
 * keeps killing its host is counted and buried (MESSAGE_POISON).
 */
import { hsuError, serializeError } from '../../errors.js';
import type { ModuleLogger } from '../../worker/contract.js';
import type { Command, CommandRegistry } from '../commands.js';
import type { Message } from '../executor.js';
import type { ConsumerPosition, ConsumerStore, DeadLetter, LogRecord, MessageLog } from '../message-log.js';
import { InFlight, STOPPED, type Outcome } from './in-flight.js';
import { backoffDelay, type CommandHandler, type HandlerContext, type ResolvedSettings } from './options.js';
import { WorkerStats } from './stats.js';

export type Handler = CommandHandler<Command, unknown>;
export type Retried = typeof DONE | typeof STOPPED | { readonly error: Error; readonly attempts: number };
export const DONE = Symbol('done');

export interface LoopSetup {
  readonly name: string;
  readonly log: MessageLog;
  readonly registry: CommandRegistry;
  readonly handlers: ReadonlyMap<string, Handler>;
  readonly settings: ResolvedSettings;
  readonly logger: ModuleLogger;
  /** Everything of the handler context but the per-delivery fields. */
  readonly context: Pick<HandlerContext, 'worker' | 'state' | 'executor' | 'logger' | 'db'>;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class ConsumerLoop {
  readonly stats = new WorkerStats();
  pos: ConsumerPosition = { last_id: 0, lease_to: 0, lease_runs: 0 };
  /** Records up to this id may have been delivered by a run that died; replayed one by one. */
  uncertainTo = 0;
  protected readonly store: ConsumerStore;
  protected readonly inflight: InFlight;
  protected stopping = false;
  protected savedAt = 0;
  protected dirty = false;
  private woken = true;
  private checkRedrives = true;
  private wakeUp: (() => void) | undefined;
  private pauseEnd: (() => void) | undefined;
  /**
   * The message whose delivery a stop interrupted, and the deliveries it has had before the last
   * one: persisted as its lease, so the next run's delivery count goes on from there.
   */
  private interrupted: { id: number; runs: number } | undefined;

  constructor(protected readonly setup: LoopSetup) {
    this.store = setup.log.consumers;
    this.inflight = new InFlight(setup.settings.handlerTimeoutMs, setup.name);
  }

  /** Called by the log's wake-up: new records, a re-drive request, anything another writer did. */
  readonly wake = (): void => {
    this.woken = true;
    this.checkRedrives = true;
    this.wakeUp?.();
  };

  async open(): Promise<void> {
    this.stopping = false;
    this.interrupted = undefined;
    this.inflight.reset();
    this.pos = await this.store.open(this.setup.name);
    // A lease may reach past the head (see lease()); what is appended after this start is new for sure.
    this.uncertainTo = this.pos.lease_to > this.pos.last_id ? Math.min(this.pos.lease_to, await this.setup.log.head()) : 0;
    this.savedAt = performance.now();
    this.stats.head = Math.max(this.stats.head, this.pos.last_id);
  }

  async run(): Promise<void> {
    const { log, settings } = this.setup;
    try {
      while (!this.stopping) {
        if (this.checkRedrives) {
          this.checkRedrives = false;
          if (await this.redrives()) continue;
        }
        this.woken = false;
        const records = await log.read(this.pos.last_id, settings.batchSize);
        const last = records[records.length - 1];
        if (last === undefined) {
          await this.idle();
          continue;
        }
        if (last.id > this.stats.head) this.stats.head = last.id;
        await this.lease(last.id, records.length < settings.batchSize);
        await this.batch(records);
        if (this.dirty && performance.now() - this.savedAt >= settings.checkpointIntervalMs) await this.flush();
        await yieldToEventLoop();
      }
    } finally {
      this.inflight.dispose();
    }
    await this.flushOnStop();
  }

  /** Ends the loop: cancels the handler in flight (redelivered later) and any backoff wait. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    this.pauseEnd?.();
    await this.inflight.cancel(this.setup.settings.stopGraceMs);
  }

  get deliveryInProgress(): Record<string, unknown> | null {
    return this.stats.inProgress(this.inflight.runningMs);
  }

  /** The hot path: a synchronous handler costs no promise, no timer and no clock read per message. */
  protected async batch(records: readonly LogRecord[]): Promise<void> {
    const { settings } = this.setup;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as LogRecord;
      if (this.stopping) return;
      const triaged = this.triage(record);
      if (triaged === undefined) continue;
      if ('error' in triaged) {
        await this.bury(record, triaged.error, triaged.attempts);
        continue;
      }
      const { handler, prior, command: screened } = triaged;
      this.stats.begin(record.id, record.name, prior + 1);
      let outcome = this.call(handler, screened, record, prior + 1, prior > 0);
      if (outcome instanceof Promise) outcome = await outcome;
      this.stats.end();
      if (outcome !== undefined) {
        const retried = await this.afterFailure(record, prior, outcome, (delivery) => this.call(handler, screened, record, delivery, prior > 0));
        if (retried === STOPPED) return;
        if (retried !== DONE) continue;
      }
      this.stats.processed++;
      this.advance(record.id);
      if (record.id <= this.uncertainTo) await this.flush();
      else if ((i & 127) === 127 && this.dirty && performance.now() - this.savedAt >= settings.checkpointIntervalMs) await this.flush();
    }
  }

  /**
   * After a first delivery that did not succeed: STOPPED when a stop cut it short, else the retries
   * (from delivery 2 of this run) and, when they run out, the dead letter. DONE when a retry succeeded.
   */
  protected async afterFailure(record: LogRecord, prior: number, first: Outcome & {}, once: (delivery: number) => Outcome | Promise<Outcome>): Promise<typeof DONE | typeof STOPPED | 'dead'> {
    const { maxAttempts } = this.setup.settings;
    if (first === STOPPED) return this.interruptedAt(record.id, prior);
    this.noteFailure(record, first, prior + 1);
    let outcome: Retried = { error: first, attempts: prior + 1 };
    if (prior + 1 < maxAttempts) {
      this.stats.retried++;
      if (!(await this.pause(backoffDelay(this.setup.settings, 1)))) return this.interruptedAt(record.id, prior);
      outcome = await this.withRetries(record, prior, 2, maxAttempts, once);
    }
    if (outcome === DONE || outcome === STOPPED) return outcome;
    await this.bury(record, outcome.error, outcome.attempts);
    return 'dead';
  }

  /**
   * What to do with `record`: undefined when this worker has no handler for it (passed over, the
   * checkpoint moves on), the reason to bury it before any delivery, or what to deliver.
   */
  protected triage(record: LogRecord): { handler: Handler; prior: number; command: Command } | { error: Error; attempts: number } | undefined {
    const handler = this.setup.handlers.get(record.name);
    if (handler === undefined) {
      this.stats.ignored++;
      this.advance(record.id);
      return undefined;
    }
    const prior = this.prior(record);
    const screened = this.screen(record, prior);
    return 'error' in screened ? screened : { handler, prior, command: screened };
  }

  /** Prior runs that may have delivered `record` (see ConsumerPosition.lease_runs). */
  protected prior(record: LogRecord): number {
    return record.id <= this.uncertainTo ? this.pos.lease_runs : 0;
  }

  /** Poison or undecodable: the reason to bury a record before any delivery, else its command. */
  protected screen(record: LogRecord, prior: number): { error: Error; attempts: number } | Command {
    if (prior >= this.setup.settings.maxAttempts) {
      this.stats.poison++;
      const error = hsuError('MESSAGE_POISON', `message ${record.id} ('${record.name}') was delivered ${prior} times and never completed: its host died or stopped each time`, { message_id: record.id, deliveries: prior });
      return { error, attempts: prior };
    }
    const decoded = this.setup.registry.decode(record);
    if (decoded.ok) return decoded.command;
    this.stats.undecodable++;
    return { error: decoded.error, attempts: 0 };
  }

  protected call(handler: Handler, command: Command, message: Message, delivery: number, redelivered: boolean): Outcome | Promise<Outcome> {
    const c = this.setup.context;
    const ctx: HandlerContext = { signal: this.inflight.signal, delivery, redelivered, worker: c.worker, state: c.state, executor: c.executor, logger: c.logger, db: c.db };
    return this.inflight.run(() => handler(command, message, ctx));
  }

  /**
   * Attempts from `first` on, with backoff between them, until the delivery numbered `limit` has
   * failed (then `attempts` is that number). Never throws for a handler's failure. A stop in the
   * middle (a cancelled call or a backoff cut short) is remembered for the checkpoint when
   * `interruptible` (messages of the log, not re-drives).
   */
  protected async withRetries(record: Pick<LogRecord, 'id' | 'name'>, prior: number, first: number, limit: number, once: (delivery: number) => Outcome | Promise<Outcome>, interruptible = true): Promise<Retried> {
    for (let attempt = first; ; attempt++) {
      const delivery = prior + attempt;
      this.stats.begin(record.id, record.name, delivery);
      let outcome = once(delivery);
      if (outcome instanceof Promise) outcome = await outcome;
      this.stats.end();
      if (outcome === undefined) return DONE;
      if (outcome !== STOPPED) {
        this.noteFailure(record, outcome, delivery);
        if (delivery >= limit) return { error: outcome, attempts: delivery };
        this.stats.retried++;
        if (await this.pause(backoffDelay(this.setup.settings, attempt))) continue;
      }
      if (interruptible) this.interruptedAt(record.id, delivery - 1);
      return STOPPED;
    }
  }

  protected noteFailure(record: Pick<LogRecord, 'id' | 'name'>, error: Error, delivery: number): void {
    this.stats.failed++;
    const s = serializeError(error);
    const code = s.code === 'HSU_ERR_UNKNOWN' ? 'HSU_ERR_HANDLER_FAILED' : s.code;
    this.stats.lastError = { code, message: s.message, message_id: record.id, name: record.name, delivery, at: new Date().toISOString() };
    this.setup.logger.warn({ err: error, message_id: record.id, command: record.name, delivery }, 'command handler failed');
  }

  /** Dead-letters `record` and moves the checkpoint past it in the same commit. */
  protected async bury(record: LogRecord, error: Error, attempts: number): Promise<void> {
    const next = this.next(record.id);
    await this.store.deadLetter(this.setup.name, this.letter(record, error, attempts), next);
    this.buried(record, error, next);
  }

  protected letter(record: LogRecord, error: Error, attempts: number): Omit<DeadLetter, 'consumer' | 'state' | 'dead_at' | 'redriven_at'> {
    const s = serializeError(error);
    const code = s.code === 'HSU_ERR_UNKNOWN' ? 'HSU_ERR_HANDLER_FAILED' : s.code;
    return { message_id: record.id, name: record.name, data: record.data, appended_at: record.appended_at, error_code: code, error_message: s.message, attempts };
  }

  protected buried(record: LogRecord, error: Error, next: ConsumerPosition): void {
    this.pos = next;
    this.dirty = false;
    this.savedAt = performance.now();
    this.stats.deadLettered++;
    if (this.stats.lastError === null || this.stats.lastError.message_id !== record.id) {
      const s = serializeError(error);
      this.stats.lastError = { code: s.code, message: s.message, message_id: record.id, name: record.name, delivery: 0, at: new Date().toISOString() };
    }
    this.setup.logger.error({ message_id: record.id, command: record.name, code: this.stats.lastError.code }, 'message moved to the dead letters');
  }

  /** Records that a stop cut the delivery of `id` short after `runs` + 1 deliveries. */
  protected interruptedAt(id: number, runs: number): typeof STOPPED {
    this.interrupted = { id, runs };
    return STOPPED;
  }

  /** The position once `id` is handled. */
  protected next(id: number): ConsumerPosition {
    return { last_id: id, lease_to: Math.max(this.pos.lease_to, id), lease_runs: id < this.uncertainTo ? 1 : 0 };
  }

  protected advance(id: number): void {
    this.pos = this.next(id);
    this.dirty = true;
  }

  protected async flush(): Promise<void> {
    await this.store.save(this.setup.name, this.pos);
    this.dirty = false;
    this.savedAt = performance.now();
  }

  /**
   * Before delivering up to `end`: records up to it may now reach a handler, so the lease must
   * cover them (with the progress so far, in one write). At the head of the log (a short read) the
   * lease reaches one batch further, so a trickle of messages does not cost a write each; a crash
   * then marks at most that many unseen messages as possibly redelivered.
   */
  private async lease(end: number, atHead: boolean): Promise<void> {
    if (end <= this.pos.lease_to) return;
    this.pos = { ...this.pos, lease_to: atHead ? end + this.setup.settings.batchSize : end };
    await this.flush();
  }

  /** Nothing to read: persist progress once it is due, and sleep until woken (or until then). */
  private async idle(): Promise<void> {
    if (this.stopping) return;
    if (!this.dirty) {
      if (!this.woken) await this.sleep(undefined);
      return;
    }
    const wait = this.setup.settings.checkpointIntervalMs - (performance.now() - this.savedAt);
    if (wait <= 0) await this.flush();
    else if (!this.woken) await this.sleep(wait);
  }

  /** Handled progress is kept; only an interrupted message stays leased, so it counts as delivered. */
  private async flushOnStop(): Promise<void> {
    const interrupted = this.interrupted;
    // open() adds one for the delivery the stop cut short, as it does for a run that died.
    this.pos = interrupted === undefined
      ? { last_id: this.pos.last_id, lease_to: this.pos.last_id, lease_runs: 0 }
      : { last_id: this.pos.last_id, lease_to: Math.max(interrupted.id, this.pos.last_id), lease_runs: interrupted.runs };
    await this.flush();
  }

  private async redrives(): Promise<boolean> {
    const letters = await this.store.pendingRedrives(this.setup.name, 100);
    for (const letter of letters) {
      if (this.stopping) return true;
      await this.redrive(letter);
    }
    return letters.length > 0;
  }

  protected async redrive(letter: DeadLetter): Promise<void> {
    const record: LogRecord = { id: letter.message_id, name: letter.name, data: letter.data, appended_at: letter.appended_at };
    const handler = this.setup.handlers.get(letter.name);
    const decoded = this.setup.registry.decode(record);
    if (handler === undefined || !decoded.ok) {
      const error = handler === undefined
        ? hsuError('COMMAND_WORKER_INVALID', `command worker '${this.setup.name}' has no handler for '${letter.name}' to re-drive message ${letter.message_id} to`, { message_id: letter.message_id })
        : (decoded as { error: Error }).error;
      await this.settleFailed(letter, error, 0);
      return;
    }
    const message: Message = { id: record.id, name: record.name, appended_at: record.appended_at };
    // A re-drive gets a fresh budget of maxAttempts deliveries on top of those the letter had.
    const limit = letter.attempts + this.setup.settings.maxAttempts;
    const outcome = await this.withRetries(record, letter.attempts, 1, limit, (delivery) => this.redeliver(letter, handler, decoded.command, message, delivery), false);
    if (outcome === STOPPED) return;
    if (outcome === DONE) {
      await this.settledOk(letter);
      return;
    }
    await this.settleFailed(letter, outcome.error, outcome.attempts - letter.attempts);
  }

  /** One re-delivery attempt (exactly-once overrides it to commit the settlement with the handler's writes). */
  protected redeliver(_letter: DeadLetter, handler: Handler, command: Command, message: Message, delivery: number): Outcome | Promise<Outcome> {
    return this.call(handler, command, message, delivery, true);
  }

  protected async settledOk(letter: DeadLetter): Promise<void> {
    await this.store.settleRedrive(this.setup.name, letter.message_id, { ok: true });
    this.stats.redriven++;
  }

  private async settleFailed(letter: DeadLetter, error: Error, attempts: number): Promise<void> {
    const l = this.letter({ id: letter.message_id, name: letter.name, data: letter.data, appended_at: letter.appended_at }, error, attempts);
    await this.store.settleRedrive(this.setup.name, letter.message_id, { ok: false, error_code: l.error_code, error_message: l.error_message, attempts });
    this.stats.redriveFailed++;
  }

  /** Until the log's wake-up (or a stop), or `ms` when given. */
  private sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wakeUp?.(), ms);
      this.wakeUp = () => {
        this.wakeUp = undefined;
        clearTimeout(timer);
        resolve();
      };
      if (this.woken || this.stopping) this.wakeUp();
    });
  }

  /** Resolves true after `ms`, false at once when the worker stops. */
  protected pause(ms: number): Promise<boolean> {
    if (this.stopping) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pauseEnd = undefined;
        resolve(true);
      }, ms);
      this.pauseEnd = () => {
        this.pauseEnd = undefined;
        clearTimeout(timer);
        resolve(false);
      };
    });
  }
}
