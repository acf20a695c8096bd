/**
 * What `hsu run` adds around a master: the control API (unless `master.api.enabled: false`),
 * config reload (SIGHUP, `hsu reload`, POST /reload) and the pid file. Reloads wait for the
 * initial start to finish: the start walks the worker table, which a reload changes.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { resolveApiSettings, type ApiSettings } from './config.js';
import type { ControlEvents, MasterPhase } from './host.js';
import { ApiServer } from './server.js';
import type { HsuConfig } from '../config/index.js';
import { removePidFile, writePidFile } from '../daemon/pid-file.js';
import { EventBus } from '../events/bus.js';
import { validateConfigForMaster } from '../master/config-loader.js';
import type { Master } from '../master/master.js';
import type { VersionBook } from '../master/package-upgrade.js';
import { ConfigReloader, type ReloadReport } from '../master/reload.js';
import type { PackageStore } from '../packages/store/store.js';

export interface ControlPlaneOptions {
  readonly master: Master;
  readonly config: HsuConfig;
  readonly api: ApiSettings;
  readonly file: string;
  readonly logger: Logger;
  /** Whoever runs the master decides what a shutdown through the API means. */
  readonly shutdown: (force: boolean) => void;
  /** False for a program's own master: its process goes on after the shutdown. Default true. */
  readonly processExits?: boolean;
  readonly phase: () => MasterPhase;
  /** Resolves once the initial start is over. */
  readonly started: Promise<unknown>;
}

export interface ControlPlane {
  reload(): Promise<ReloadReport>;
  close(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { master, config, file, logger } = options;
  const stateDir = config.master.state_dir;
  const controlEvents = new EventBus<ControlEvents>((report) => logger.error({ err: report.error }, 'a control event listener threw; ignored'));
  const reloader = new ConfigReloader({
    master,
    file,
    initial: config,
    logger,
    // The same loader as the start (packages a changed worker names are installed); a changed
    // master block, api included, is reported by the reloader as taking effect at the next start.
    read: () => validateConfigForMaster(file),
    onReport: (report) => controlEvents.emit('reload', report),
    versions: lazyVersionBook(config, file),
  });
  const reload = async (): Promise<ReloadReport> => {
    await options.started;
    return reloader.reload();
  };
  const settings = resolveApiSettings(options.api, stateDir, path.dirname(file));
  const server = settings.enabled
    ? await ApiServer.start({
        host: { master, logDir: config.master.log_dir, configFile: file, stateDir, shutdownTimeoutMs: config.master.shutdown_timeout, phase: options.phase, reload, shutdown: options.shutdown, processExits: options.processExits ?? true, controlEvents },
        settings,
        logger,
      })
    : undefined;
  writePidFile(stateDir);
  return {
    reload,
    close: async () => {
      reloader.close();
      await server?.close();
      controlEvents.removeAll();
      removePidFile(stateDir);
    },
  };
}


/** The package store, opened on the first version move (most masters never have one). */
function lazyVersionBook(config: HsuConfig, file: string): VersionBook {
  let store: Promise<PackageStore> | undefined;
  const open = (): Promise<PackageStore> =>
    (store ??= (async () => {
      const [{ PackageStore }, { storeOptions }] = await Promise.all([import('../packages/store/store.js'), import('../packages/config-schema.js')]);
      return new PackageStore(storeOptions(config.master.packages, config.master.state_dir, path.dirname(file)));
    })());
  return {
    setCurrent: async (name, version, options) => (await open()).setCurrent(name, version, options),
    rollback: async (name, scope) => (await open()).rollback(name, scope),
  };
}
