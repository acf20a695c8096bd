/**
 * The signals of `hsu run`: SIGINT, SIGTERM and SIGQUIT stop the master gracefully (a second one
 * forces), SIGHUP reloads the config file (the daemon convention). The same stop path serves the
 * API's POST /shutdown, so however a stop is asked for, `done` reports it once.
 */
import type { Logger } from 'pino';
import type { Master } from '../master/master.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;

export interface StopOutcome {
  readonly forced: boolean;
  /** How many stop requests arrived (a second one forces). */
  readonly requests: number;
}

export interface RunSignals {
  readonly done: Promise<StopOutcome>;
  /** True once a stop was asked for. */
  readonly stopping: boolean;
  /** Asks for a stop as a signal would; `force` skips the grace period. */
  stop(reason: string, force?: boolean): void;
  remove(): void;
}

export function installRunSignals(master: Master, logger: Logger, onReload: () => void): RunSignals {
  let requests = 0;
  let resolveDone!: (outcome: StopOutcome) => void;
  const done = new Promise<StopOutcome>((resolve) => (resolveDone = resolve));
  const stop = (reason: string, force = false): void => {
    requests += 1;
    if (requests === 1 && !force) {
      logger.info({ reason }, 'shutting down (send the signal again to force)');
      master.shutdown().then(
        (report) => resolveDone({ forced: report.forced, requests }),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolveDone({ forced: true, requests });
        },
      );
      return;
    }
    logger.warn({ reason }, requests === 1 ? 'forced shutdown requested' : 'second stop request: forcing every worker down now');
    // Through the master, so the kills count as requested stops (no restart) and stops that hang
    // (an inline module's stop()) stop holding the shutdown up.
    const shutdown = master.shutdown({ force: true });
    if (requests === 1) shutdown.then((report) => resolveDone({ forced: report.forced, requests }), () => resolveDone({ forced: true, requests }));
  };
  const onStop = (signal: NodeJS.Signals): void => stop(signal);
  const onHup = (): void => {
    logger.info({ signal: 'SIGHUP' }, 'reloading the config file');
    onReload();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onStop);
  process.on('SIGHUP', onHup);
  return {
    done,
    get stopping() {
      return requests > 0;
    },
    stop,
    remove: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onStop);
      process.off('SIGHUP', onHup);
    },
  };
}
