/**
 * What the control API serves: a master plus the facts the master itself does not hold (where its
 * config file and log files are, what phase `hsu run` is in) and the two operations that belong
 * to whoever runs the master (reload the file, shut down). A library user hands in a master and a
 * log directory; `hsu run` hands in everything.
 */
import type { EventBus } from '../events/bus.js';
import type { Master } from '../master/master.js';
import type { ReloadReportBody } from './schemas.js';

export type MasterPhase = 'starting' | 'running' | 'stopping';

/** Events of the control plane itself, streamed with the master's. */
export interface ControlEvents {
  reload: ReloadReportBody;
}

export interface ControlHost {
  readonly master: Master;
  /** Where the workers' `<id>.out.log` / `.err.log` are (the master's `log_dir`). */
  readonly logDir: string;
  readonly configFile?: string;
  readonly stateDir?: string;
  readonly shutdownTimeoutMs?: number;
  /** Epoch ms the master started; default: when the API was created. */
  readonly startedAt?: number;
  /** Default: `stopping` once the master closes, `running` before. */
  phase?(): MasterPhase;
  /** Re-reads the config file and applies the difference; absent: 409 API_RELOAD_UNAVAILABLE. */
  reload?(): Promise<ReloadReportBody>;
  /** Starts a graceful (or forced) shutdown and returns at once; absent: 409 API_SHUTDOWN_UNAVAILABLE. */
  shutdown?(force: boolean): void;
  /**
   * Whether the process ends once the master has shut down (`hsu run`, the default) or goes on (a
   * program's own master, serveControlPlane): the shutdown reply says so, and `hsu shutdown` waits
   * for the process to exit or for the API to close accordingly.
   */
  readonly processExits?: boolean;
  readonly controlEvents?: EventBus<ControlEvents>;
}
