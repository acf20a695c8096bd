/**
 * `hsu run`: the master in the foreground until it is told to stop (SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT); a second signal forces. It stays up whatever its workers do: a failed or finished
 * worker is a state to show, not a reason to exit.
 */
import path from 'node:path';
import type { LevelWithSilent, Logger } from 'pino';
import { loadConfigFile } from '../config/index.js';
import { Master } from '../master/master.js';
import { createLogger } from '../observability/logger.js';
import type { StdoutSink } from '../observability/stdout-sink.js';
import type { ModuleExport } from '../worker/contract.js';

export interface RunOptions {
  /** Native module factories, for programs that embed the master (the demo does). */
  readonly natives?: Readonly<Record<string, ModuleExport>>;
  readonly logLevel?: LevelWithSilent;
  readonly json?: boolean;
  /** Called once every enabled worker has been started (or failed to). */
  readonly onStarted?: (master: Master) => void;
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;
/** At exit, how long the log backlog may take to reach a slow reader before it is counted as lost. */
const LOG_DRAIN_MS = 2_000;

/** Resolves with the process exit code: 0 after a graceful shutdown, 1 when it had to force. */
export async function runMaster(configPath: string, options: RunOptions = {}): Promise<number> {
  const file = path.resolve(configPath);
  const config = loadConfigFile(file);
  const { logger, sink } = await createLogger({ level: options.logLevel ?? config.master.log_level, ...(options.json === true ? { format: 'json' as const } : {}) });
  let master: Master;
  try {
    master = Master.fromConfig(config, file, { logger, ...(options.natives === undefined ? {} : { natives: options.natives }) });
  } catch (error) {
    await finishLog(sink);
    throw error;
  }
  // Nothing of the master's own keeps Node's loop alive (signal listeners don't): this does, until told to stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = onStopSignals(master, logger);
  try {
    logger.info({ config: file, workers: master.listWorkers().length, pid: process.pid }, 'master starting');
    const results = await master.start();
    const failed = results.filter((r) => !r.ok).length;
    if (!master.closing) logger.info({ started: results.length - failed, failed }, 'master running');
    options.onStarted?.(master);
    const { forced, signals } = await stop.done;
    return forced || signals > 1 ? 1 : 0;
  } finally {
    stop.remove();
    clearInterval(keepAlive);
    await finishLog(sink);
  }
}

interface StopHandle {
  readonly done: Promise<{ forced: boolean; signals: number }>;
  remove(): void;
}

function onStopSignals(master: Master, logger: Logger): StopHandle {
  let signals = 0;
  let resolveDone!: (outcome: { forced: boolean; signals: number }) => void;
  const done = new Promise<{ forced: boolean; signals: number }>((resolve) => (resolveDone = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    if (signals === 1) {
      logger.info({ signal }, 'shutting down (send the signal again to force)');
      master.shutdown().then(
        (report) => resolveDone({ forced: report.forced, signals }),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolveDone({ forced: true, signals });
        },
      );
      return;
    }
    logger.warn({ signal }, 'second signal: forcing every worker down now');
    // Through the master, so the kills count as requested stops (no restart) and stops that hang
    // (an inline module's stop()) stop holding the shutdown up.
    void master.shutdown({ force: true });
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    done,
    remove: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}

async function finishLog(sink: StdoutSink): Promise<void> {
  const loss = await sink.drain(LOG_DRAIN_MS);
  if (loss.dropped_lines > 0) {
    process.stderr.write(`hsu: ${loss.dropped_lines} log lines (${loss.dropped_bytes} bytes) could not be written to stdout: its reader stalled or went away\n`);
  }
}
