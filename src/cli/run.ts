/** `hsu run`: the master in the foreground until SIGINT/SIGTERM; a second signal forces. */
import path from 'node:path';
import type { LevelWithSilent } from 'pino';
import { loadConfigFile } from '../config/index.js';
import { Master } from '../master/master.js';
import { createLogger } from '../observability/logger.js';
import { killAllProcessGroupsSync } from '../runtimes/process-runtime.js';
import type { ModuleExport } from '../worker/contract.js';

export interface RunOptions {
  /** Native module factories, for programs that embed the master (the demo does). */
  readonly natives?: Readonly<Record<string, ModuleExport>>;
  readonly logLevel?: LevelWithSilent;
  readonly json?: boolean;
  /** Called once every enabled worker has been started (or failed to). */
  readonly onStarted?: (master: Master) => void;
}

/** Resolves with the process exit code: 0 after a graceful shutdown, 1 when forced. */
export async function runMaster(configPath: string, options: RunOptions = {}): Promise<number> {
  const file = path.resolve(configPath);
  const config = loadConfigFile(file);
  const logger = createLogger({ level: options.logLevel ?? config.master.log_level, ...(options.json === true ? { format: 'json' as const } : {}) });
  const master = new Master({
    logger,
    logDir: config.master.log_dir,
    shutdownTimeoutMs: config.master.shutdown_timeout,
    baseDir: path.dirname(file),
    stateDir: config.master.state_dir,
    attributeUncaughtErrors: config.master.inline_error_attribution,
  });
  for (const [name, factory] of Object.entries(options.natives ?? {})) master.registerNativeModuleFactory(name, factory);
  for (const worker of config.workers) master.addWorker(worker);

  const done = new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) {
        logger.info({ signal }, 'shutting down (send the signal again to force)');
        master.shutdown().then(
          () => resolve(signals > 1 ? 1 : 0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            resolve(1);
          },
        );
        return;
      }
      logger.warn({ signal }, 'second signal: killing every worker process now');
      // Through the master first, so the kills count as requested stops (no restart) and stops
      // that hang (an inline module's stop()) stop holding the shutdown up; it then resolves 1.
      void master.shutdown({ force: true });
      killAllProcessGroupsSync();
    };
    // SIGHUP: the terminal went away; SIGQUIT: asked to quit. Both mean "shut down cleanly".
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.on(signal, onSignal);
  });

  logger.info({ config: file, workers: master.listWorkers().length, pid: process.pid }, 'master starting');
  const results = await master.start();
  const failed = results.filter((r) => !r.ok).length;
  logger.info({ started: results.length - failed, failed }, 'master running');
  options.onStarted?.(master);
  const code = await done;
  logger.flush();
  return code;
}
