/**
 * A module's new `config:` block applied without a restart (a reload whose only change is
 * `module.config`). The running replicas get it through their module's `reconfigure` action; the
 * worker's stored config, each replica's config and each runtime's next launch take it too, so a
 * later crash-restart or a new replica starts with the new config rather than the old one.
 */
import { isHsuError } from '../errors.js';
import type { WorkerConfig } from '../config/index.js';
import type { WorkerGroup } from './worker-table.js';

/** The module action that takes a new config block; a module without it is restarted instead. */
export const RECONFIGURE_ACTION = 'reconfigure';

export async function reconfigureGroup(group: WorkerGroup, moduleConfig: Readonly<Record<string, unknown>>): Promise<'applied' | 'unsupported'> {
  // A module worker, or a process worker hosting a module (`type: process` + `module:`).
  if (group.config.module === undefined) return 'unsupported';
  // All replicas run the same module: the first answer says whether it can reconfigure at all.
  for (const replica of group.replicas) {
    if (replica.controller.state !== 'running') continue;
    try {
      await replica.controller.call(RECONFIGURE_ACTION, moduleConfig);
    } catch (error) {
      if (isHsuError(error, 'ACTION_NOT_FOUND') || isHsuError(error, 'CALL_UNSUPPORTED') || isHsuError(error, 'CALL_NOT_RUNNING')) return 'unsupported';
      throw error; // the module refused this config: the caller restarts it with the config instead
    }
  }
  group.config = withModuleConfig(group.config, moduleConfig);
  for (const replica of group.replicas) {
    replica.config = withModuleConfig(replica.config, moduleConfig);
    replica.runtime.reconfigure?.(moduleConfig);
  }
  return 'applied';
}

function withModuleConfig(config: WorkerConfig, moduleConfig: Readonly<Record<string, unknown>>): WorkerConfig {
  const fresh = { ...moduleConfig };
  if (config.type === 'module') return { ...config, module: { ...config.module, config: fresh } };
  return config.module === undefined ? config : { ...config, module: { ...config.module, config: fresh } };
}
