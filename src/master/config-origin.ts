/**
 * The config file a master was made from (Master.fromConfig, fromConfigFile, create), kept beside
 * the master rather than in it: only what serves that file later (the control plane, its reload)
 * asks for it, and a master built in code has none.
 */
import type { HsuConfig } from '../config/index.js';
import type { Master } from './master.js';

export interface ConfigOrigin {
  readonly config: HsuConfig;
  /** Absolute path of the file. */
  readonly file: string;
}

const origins = new WeakMap<Master, ConfigOrigin>();

export function rememberConfigOrigin(master: Master, origin: ConfigOrigin): void {
  origins.set(master, origin);
}

export function configOriginOf(master: Master): ConfigOrigin | undefined {
  return origins.get(master);
}
