/**
 * `hsu run`'s control plane for a master a program runs itself: the control API of the file's
 * `master.api` block (so `hsu ls`, `hsu logs`, `hsu reload`, the dashboard and `/metrics` reach it),
 * config reload and the pid file. Small on purpose: the API server loads only when this is called,
 * so `import 'hsu'` does not pay for it.
 */
import type { Logger } from 'pino';
import { hsuError } from '../errors.js';
import { configOriginOf } from '../master/config-origin.js';
import type { Master } from '../master/master.js';
import type { ControlPlane } from './control-plane.js';

export type { ControlPlane } from './control-plane.js';

export interface ServeControlPlaneOptions {
  /** Where the control plane logs; default the master's logger. */
  readonly logger?: Logger;
  /**
   * What a shutdown asked through the API (`hsu shutdown`, POST /shutdown) does. Default: the
   * master shuts down (forced when asked so), then the control plane closes.
   */
  readonly shutdown?: (force: boolean) => void;
}

/**
 * Serves the control plane of a master made from a config file (Master.fromConfigFile,
 * Master.create or Master.fromConfig). Call it once, once `master.start()` has resolved: reloads
 * then never race the start, and the reloader starts from the config the master was made from.
 * `close()` (idempotent) ends the API, removes its socket and the pid file; call it after
 * `master.shutdown()`.
 */
export async function serveControlPlane(master: Master, options: ServeControlPlaneOptions = {}): Promise<ControlPlane> {
  const origin = configOriginOf(master);
  if (origin === undefined) {
    throw hsuError('API_NO_CONFIG', 'serveControlPlane needs a master made from a config file (Master.fromConfigFile or Master.create): its master.api block says what to serve');
  }
  const { startControlPlane } = await import('./control-plane.js');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= control.close());
  const logger = options.logger ?? master.logger;
  const shutdown =
    options.shutdown ??
    ((force: boolean) => {
      master
        .shutdown({ force })
        .finally(close)
        .catch((error: unknown) => logger.error({ err: error }, 'shutdown through the control API failed'));
    });
  const control: ControlPlane = await startControlPlane({
    master,
    config: origin.config,
    api: origin.config.master.api,
    file: origin.file,
    logger,
    started: Promise.resolve(),
    phase: () => (master.closing ? 'stopping' : 'running'),
    shutdown,
    processExits: false,
  });
  return { reload: () => control.reload(), close };
}
