/**
 * A command worker as a plugin file: the export is a module factory whose start() builds the
 * worker from the module context (its `config:` block, e.g. the log file), so the same file runs
 * inline, in a thread or as `type: process`.
 */
import { hsuError } from '../../errors.js';
import type { ModuleContext, ModuleFactory, ModuleInfo, WorkerModule } from '../../worker/contract.js';
import type { CommandType } from '../commands.js';
import type { CommandWorker } from './command-worker.js';

/** The module a command-worker plugin produces: the worker's actions plus its diagnostics. */
export interface CommandWorkerModule extends WorkerModule {
  readonly actions: CommandWorker['actions'];
  diagnostics(): Record<string, unknown>;
}

/**
 * @example
 * export default defineCommandWorker({ name: 'mailer', version: '1.0.0' }, (ctx) => {
 *   const log = SqliteMessageLog.open(String(ctx.config.db), { commands });
 *   return new CommandWorker({ name: 'mailer', state: {}, log, ownsLog: true }).onCommand('mail/send', send);
 * });
 */
export function defineCommandWorker<Config = Record<string, unknown>>(
  info: ModuleInfo,
  // `any`: a plugin's worker may be built over any command types and state.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  build: (ctx: ModuleContext<Config>) => CommandWorker<any, any> | Promise<CommandWorker<any, any>>,
): ModuleFactory<CommandWorkerModule> {
  return () => {
    let worker: CommandWorker<CommandType, unknown> | undefined;
    const running = (action: string): CommandWorker<CommandType, unknown> => {
      if (worker !== undefined) return worker;
      throw hsuError('CALL_NOT_RUNNING', `command worker '${info.name}' is not started; ${action} needs it`, { worker: info.name, action });
    };
    return {
      info,
      async start(ctx: ModuleContext): Promise<void> {
        const built = await build(ctx as ModuleContext<Config>);
        try {
          await built.start(ctx);
        } catch (err) {
          await built.stop();
          throw err;
        }
        worker = built;
      },
      async stop(): Promise<void> {
        await worker?.stop();
      },
      isHealthy: () => worker?.isHealthy() ?? false,
      diagnostics: () => worker?.diagnostics() ?? { worker: info.name, state: 'new' },
      actions: {
        dead_letters: (input?: unknown) => running('dead_letters').actions.dead_letters(input),
        redrive: (input?: unknown) => running('redrive').actions.redrive(input),
        diagnostics: () => running('diagnostics').actions.diagnostics(),
      },
    };
  };
}
