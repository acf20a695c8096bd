/**
 * A command worker in the Petrock guide's shape, done right: it IS a worker module (info, start,
 * stop, isHealthy, actions, diagnostics), so the master deploys it inline, in a thread or in its own
 * process like any other; and it never loses, skips or crashes on a message (consumer-loop.ts).
 */
import { hsuError } from '../../errors.js';
import type { ModuleContext, ModuleInfo, ModuleLogger, WorkerModule } from '../../worker/contract.js';
import type { CommandOf, CommandRegistry, CommandType } from '../commands.js';
import { listDeadLetters, redrive } from '../dead-letters.js';
import type { DeadLetter, DeadLetterQuery, MessageLog } from '../message-log.js';
import { SqliteMessageLog } from '../sqlite/sqlite-message-log.js';
import { SqliteTransactor } from '../sqlite/transactor.js';
import { deadLettersInput, redriveInput } from './action-inputs.js';
import { ConsumerLoop, type Handler } from './consumer-loop.js';
import { ExactlyOnceLoop } from './exactly-once.js';
import { PeriodicRunner } from './periodic.js';
import { resolveSettings, SILENT_LOGGER, type CommandHandler, type CommandWorkerOptions, type PeriodicWork, type ResolvedSettings } from './options.js';

type Phase = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';
type Named<T, N> = Extract<CommandOf<T>, { name: N }>;

export class CommandWorker<T extends CommandType = CommandType, S = unknown> implements WorkerModule {
  readonly name: string;
  readonly description: string;
  readonly state: S;
  readonly log: MessageLog<T>;
  readonly actions;
  private readonly options: CommandWorkerOptions<T, S>;
  private readonly registry: CommandRegistry<T>;
  private readonly settings: ResolvedSettings;
  private readonly handlers = new Map<string, Handler>();
  private readonly periodic = new PeriodicRunner<S>();
  private phase: Phase = 'new';
  private loop: ConsumerLoop | undefined;
  private loopDone: Promise<void> | undefined;
  private unwatch: (() => void) | undefined;
  private fatal: Error | undefined;
  private logger: ModuleLogger = SILENT_LOGGER;

  constructor(options: CommandWorkerOptions<T, S>) {
    if (typeof options.name !== 'string' || options.name.length === 0) {
      throw hsuError('COMMAND_WORKER_INVALID', 'a command worker needs a non-empty `name` (its checkpoint is kept under it)', {});
    }
    const registry = options.log?.commands;
    if (registry === undefined) {
      throw hsuError('COMMAND_WORKER_INVALID', `command worker '${options.name}': its log must be opened with \`commands\` (a CommandRegistry) so messages can be decoded`, { worker: options.name });
    }
    if (options.exactlyOnce === true && !(options.log instanceof SqliteMessageLog)) {
      throw hsuError('COMMAND_WORKER_INVALID', `command worker '${options.name}': exactlyOnce needs a SqliteMessageLog (the handler's writes and the checkpoint share its transaction)`, { worker: options.name });
    }
    this.settings = resolveSettings(options);
    for (const [key, value] of Object.entries(this.settings)) {
      const min = key === 'stopGraceMs' || key === 'backoffMs' || key === 'maxBackoffMs' || key === 'checkpointIntervalMs' ? 0 : 1;
      if (!Number.isFinite(value) || value < min || (key === 'maxAttempts' || key === 'batchSize' ? !Number.isInteger(value) : false)) {
        throw hsuError('COMMAND_WORKER_INVALID', `command worker '${options.name}': ${key} must be a ${min === 1 ? 'positive' : 'non-negative'} number, got ${String(value)}`, { worker: options.name, key, value });
      }
    }
    this.options = options;
    this.name = options.name;
    this.description = options.description ?? '';
    this.state = options.state;
    this.log = options.log;
    this.registry = registry;
    this.actions = {
      dead_letters: (input?: unknown): Promise<DeadLetter[]> => this.deadLetters(deadLettersInput(this.name, input)),
      redrive: async (input?: unknown): Promise<{ redriven: number }> => ({ redriven: await this.redrive(redriveInput(this.name, input)) }),
      diagnostics: (): Record<string, unknown> => this.diagnostics(),
    };
  }

  get info(): ModuleInfo {
    return { name: this.name, version: this.options.version ?? '1.0.0', description: this.description };
  }

  /** The seed's WorkerInfo: who this worker is. */
  workerInfo(): { name: string; description: string } {
    return { name: this.name, description: this.description };
  }

  /** Registers the handler of one command type; naming a command twice is an error. */
  onCommand<N extends T['name']>(name: N, handler: CommandHandler<Named<T, N>, S>): this {
    this.assertNotStarted('onCommand');
    if (!this.registry.has(name)) {
      throw hsuError('COMMAND_UNKNOWN', `command worker '${this.name}': no command type named '${name}' is registered`, { worker: this.name, name, registered: this.registry.names });
    }
    if (this.handlers.has(name)) {
      throw hsuError('HANDLER_EXISTS', `command worker '${this.name}' already has a handler for '${name}'`, { worker: this.name, name });
    }
    this.handlers.set(name, handler as unknown as Handler);
    return this;
  }

  /** Work to run every `interval` ms while the worker runs (never overlapping; a failure is counted, not fatal). */
  setPeriodicWork(fn: PeriodicWork<S>, options: { interval: number }): this {
    this.assertNotStarted('setPeriodicWork');
    if (!Number.isFinite(options?.interval) || options.interval <= 0) {
      throw hsuError('COMMAND_WORKER_INVALID', `command worker '${this.name}': periodic work needs a positive interval in ms, got ${String(options?.interval)}`, { worker: this.name });
    }
    this.periodic.set(fn, options.interval);
    return this;
  }

  /** Opens the checkpoint and starts delivering. Inside a master `ctx` is the module context. */
  async start(ctx?: ModuleContext): Promise<void> {
    this.assertNotStarted('start');
    this.phase = 'starting';
    this.fatal = undefined;
    this.logger = ctx?.logger ?? this.options.logger ?? SILENT_LOGGER;
    try {
      const loop = this.createLoop();
      await loop.open();
      this.loop = loop;
      this.unwatch = this.log.watch(loop.wake);
      const run = loop.run();
      this.loopDone = run.then(undefined, (err: unknown) => this.onLoopFailure(err));
      // Inside a master, a storage failure is fatal: the worker restarts from its checkpoint.
      if (ctx !== undefined) void ctx.run(run).catch(() => undefined);
    } catch (err) {
      this.phase = 'failed';
      this.fatal = err as Error;
      await this.release();
      throw err;
    }
    this.phase = 'running';
    this.periodic.start({ state: this.state, logger: this.logger });
    this.logger.info({ worker: this.name, checkpoint: this.loop.pos.last_id, exactly_once: this.options.exactlyOnce === true }, 'command worker started');
  }

  /** Cancels the handler in flight (it is delivered again later), persists the checkpoint, releases everything. */
  async stop(): Promise<void> {
    if (this.phase === 'new' || this.phase === 'stopped' || this.phase === 'stopping') return;
    this.phase = 'stopping';
    await Promise.all([this.loop?.stop(), this.periodic.stop(this.settings.stopGraceMs)]);
    await this.loopDone;
    await this.release();
    this.phase = 'stopped';
  }

  isHealthy(): boolean {
    return this.phase === 'running' && this.fatal === undefined;
  }

  /** The storage failure that ended the loop, if one did. */
  get failure(): Error | undefined {
    return this.fatal;
  }

  diagnostics(): Record<string, unknown> {
    const loop = this.loop;
    const stats = loop?.stats;
    if (stats !== undefined && this.log instanceof SqliteMessageLog && !this.log.isClosed) {
      try {
        stats.head = Math.max(stats.head, this.log.headSync());
      } catch {
        // diagnostics never throw; the last known head stands
      }
    }
    const checkpoint = loop?.pos.last_id ?? 0;
    const head = stats?.head ?? 0;
    return {
      worker: this.name,
      state: this.phase,
      exactly_once: this.options.exactlyOnce === true,
      checkpoint,
      head,
      lag: Math.max(0, head - checkpoint),
      ...(stats?.counts() ?? {}),
      last_error: stats?.lastError ?? null,
      delivery_in_progress: loop?.deliveryInProgress ?? null,
      periodic: this.periodic.diagnostics(),
      wake: this.log instanceof SqliteMessageLog ? this.log.wakeInfo : null,
      fatal: this.fatal === undefined ? null : { code: (this.fatal as { code?: string }).code ?? 'HSU_ERR_UNKNOWN', message: this.fatal.message },
    };
  }

  /** This worker as a module for `master.registerNativeModuleFactory(name, () => worker.toModule())`. */
  toModule(): WorkerModule {
    return this;
  }

  deadLetters(query?: DeadLetterQuery): Promise<DeadLetter[]> {
    return listDeadLetters(this.log, this.name, query);
  }

  /** Marks dead letters (all when no ids are given) for re-delivery; resolves with how many. */
  async redrive(messageIds?: readonly number[]): Promise<number> {
    const count = await redrive(this.log, this.name, messageIds);
    this.loop?.wake();
    return count;
  }

  private createLoop(): ConsumerLoop {
    const exactlyOnce = this.options.exactlyOnce === true && this.log instanceof SqliteMessageLog ? this.log : undefined;
    const setup = {
      name: this.name,
      log: this.log as unknown as MessageLog,
      registry: this.registry as unknown as CommandRegistry,
      handlers: this.handlers,
      settings: this.settings,
      logger: this.logger,
      context: { worker: this.name, state: this.state, executor: this.options.executor, logger: this.logger, db: undefined },
    };
    if (exactlyOnce === undefined) return new ConsumerLoop(setup);
    return new ExactlyOnceLoop(setup, new SqliteTransactor(exactlyOnce.db, exactlyOnce.target), exactlyOnce.consumers);
  }

  private onLoopFailure(err: unknown): void {
    this.fatal = err instanceof Error ? err : new Error(String(err));
    if (this.phase !== 'stopping') this.phase = 'failed';
    this.logger.error({ err: this.fatal, worker: this.name }, 'command worker stopped delivering: the message log failed');
  }

  private async release(): Promise<void> {
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.options.ownsLog === true) await this.log.close();
  }

  private assertNotStarted(operation: string): void {
    if (this.phase === 'starting' || this.phase === 'running' || this.phase === 'stopping') {
      throw hsuError('COMMAND_WORKER_STARTED', `command worker '${this.name}': ${operation} is not allowed while it runs`, { worker: this.name, operation });
    }
  }
}
