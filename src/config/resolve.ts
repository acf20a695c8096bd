/**
 * Relative paths in a config mean "relative to the config file", not to wherever hsu was started,
 * so the same file works from any current directory. Bare executable names stay for PATH lookup.
 * `master.api` and `master.packages` are resolved where they are used, against the same directory.
 */
import path from 'node:path';
import type { HsuConfig, WorkerConfig } from './schema.js';

export function resolveConfigPaths(config: HsuConfig, baseDir: string): HsuConfig {
  const { cluster } = config.master;
  return {
    master: {
      ...config.master,
      log_dir: path.resolve(baseDir, config.master.log_dir),
      state_dir: path.resolve(baseDir, config.master.state_dir),
      ...(cluster === undefined ? {} : { cluster: resolveClusterPaths(cluster, baseDir) }),
    },
    workers: config.workers.map((worker) => resolveWorkerPaths(worker, baseDir)),
  };
}

type ClusterBlock = NonNullable<HsuConfig['master']['cluster']>;

/** The NATS credentials file and TLS files. */
function resolveClusterPaths(cluster: ClusterBlock, baseDir: string): ClusterBlock {
  const resolved = resolveFiles(cluster, ['credentials'], baseDir);
  return cluster.tls === undefined ? resolved : { ...resolved, tls: resolveFiles(cluster.tls, ['ca', 'cert', 'key'], baseDir) };
}

/** A copy of `block` with the path-valued `keys` that are set resolved against `baseDir`. */
function resolveFiles<T extends object>(block: T, keys: readonly (keyof T)[], baseDir: string): T {
  const out = { ...block };
  for (const key of keys) {
    const value = block[key];
    if (typeof value === 'string') out[key] = path.resolve(baseDir, value) as T[keyof T];
  }
  return out;
}

export function resolveWorkerPaths(worker: WorkerConfig, baseDir: string): WorkerConfig {
  if (worker.type === 'module') {
    const block = worker.module;
    if (block.module_type === 'native') return worker;
    return { ...worker, module: { ...block, module_path: path.resolve(baseDir, block.module_path) } };
  }
  const resolved = { ...worker };
  if (worker.execution !== undefined) {
    const { executable_path, working_directory } = worker.execution;
    resolved.execution = {
      ...worker.execution,
      executable_path: isBareCommand(executable_path) ? executable_path : path.resolve(baseDir, executable_path),
      working_directory: path.resolve(baseDir, working_directory ?? '.'),
    };
  }
  if (worker.module !== undefined) {
    resolved.module = { ...worker.module, module_path: path.resolve(baseDir, worker.module.module_path) };
  }
  if (worker.unmanaged !== undefined) resolved.unmanaged = resolveFiles(worker.unmanaged, ['pid_file'], baseDir);
  return resolved;
}

/** A name without a directory separator ("node", "python3") is looked up in PATH at spawn time. */
function isBareCommand(executable: string): boolean {
  return !executable.includes('/') && !executable.includes(path.sep);
}
