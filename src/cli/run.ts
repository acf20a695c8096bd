/**
 * `hsu run`: the master in the foreground until it is told to stop (SIGINT, SIGTERM, SIGQUIT, or
 * `hsu shutdown`); a second request forces. SIGHUP reloads the config file. It serves the control
 * API while it runs, and stays up whatever its workers do: a failed or finished worker is a state
 * to show, not a reason to exit.
 */
import path from 'node:path';
import type { LevelWithSilent } from 'pino';
import type { MasterPhase } from '../api/host.js';
import { loadConfigForMaster } from '../master/config-loader.js';
import { Master } from '../master/master.js';
import { instrumentMaster } from '../observability/instrument.js';
import { createLogger } from '../observability/logger.js';
import type { StdoutSink } from '../observability/stdout-sink.js';
import type { ModuleExport } from '../worker/contract.js';
import { startControlPlane, type ControlPlane } from '../api/control-plane.js';
import { installRunSignals } from './run-signals.js';

export interface RunOptions {
  /** Native module factories, for programs that embed the master (the demo does). */
  readonly natives?: Readonly<Record<string, ModuleExport>>;
  readonly logLevel?: LevelWithSilent;
  readonly json?: boolean;
  /** Restart workers whose files change (`hsu run --watch`). */
  readonly watch?: boolean;
  /** Called once every enabled worker has been started (or failed to). */
  readonly onStarted?: (master: Master) => void;
}

/** At exit, how long the log backlog may take to reach a slow reader before it is counted as lost. */
const LOG_DRAIN_MS = 2_000;

/** Resolves with the process exit code: 0 after a graceful shutdown, 1 when it had to force. */
export async function runMaster(configPath: string, options: RunOptions = {}): Promise<number> {
  const file = path.resolve(configPath);
  const config = await loadConfigForMaster(file);
  const api = config.master.api;
  const { logger, sink } = await createLogger({ level: options.logLevel ?? config.master.log_level, ...(options.json === true ? { format: 'json' as const } : {}) });
  let master: Master;
  try {
    master = await Master.create(config, file, { logger, ...(options.natives === undefined ? {} : { natives: options.natives }) });
  } catch (error) {
    await finishLog(sink);
    throw error;
  }
  const instrumentation = await instrumentMaster(master, { metrics: config.master.metrics, tracing: config.master.tracing }).catch(async (error: unknown) => {
    await master.shutdown();
    await finishLog(sink);
    throw error;
  });
  // Nothing of the master's own keeps Node's loop alive (signal listeners don't): this does, until told to stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let phase: MasterPhase = 'starting';
  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  let control: ControlPlane | undefined;
  let watcher: { close(): Promise<void> } | undefined;
  const signals = installRunSignals(master, logger, () => {
    control?.reload().catch((error: unknown) => {
      // An invalid file is already logged with every issue by the reloader.
      if ((error as { code?: string }).code !== 'HSU_ERR_CONFIG_INVALID') logger.error({ err: error }, 'reload failed');
    });
  });
  try {
    control = await startControlPlane({
      master,
      config,
      api,
      file,
      logger,
      started,
      phase: () => (signals.stopping || master.closing ? 'stopping' : phase),
      shutdown: (force) => signals.stop('shutdown requested through the control API', force),
    }).catch(async (error: unknown) => {
      await master.shutdown();
      throw error;
    });
    // Before the start, so the watcher sees each worker's first start (writes made while starting are its own).
    if (options.watch === true) {
      const { WatchMode } = await import('../watch/index.js');
      watcher = await WatchMode.start({ master, logger, configFile: file, logDir: config.master.log_dir, stateDir: config.master.state_dir, onConfigChange: () => void control?.reload().catch(() => undefined) });
    }
    logger.info({ config: file, workers: master.listWorkers().length, pid: process.pid }, 'master starting');
    const results = await master.start();
    const failed = results.filter((r) => !r.ok).length;
    phase = 'running';
    markStarted();
    if (!master.closing) logger.info({ started: results.length - failed, failed }, 'master running');
    options.onStarted?.(master);
    const { forced, requests } = await signals.done;
    return forced || requests > 1 ? 1 : 0;
  } finally {
    markStarted();
    await watcher?.close();
    signals.remove();
    clearInterval(keepAlive);
    await control?.close();
    await instrumentation.close();
    await finishLog(sink);
  }
}

async function finishLog(sink: StdoutSink): Promise<void> {
  const loss = await sink.drain(LOG_DRAIN_MS);
  if (loss.dropped_lines > 0) {
    process.stderr.write(`hsu: ${loss.dropped_lines} log lines (${loss.dropped_bytes} bytes) could not be written to stdout: its reader stalled or went away\n`);
  }
}
