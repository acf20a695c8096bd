/**
 * One module file, three deployments: the worker entry differs only in the lines a user would
 * change in YAML (`type`, `isolation`), exactly as docs/isolation.md describes the move.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerConfigInput } from '../config/index.js';

export const DEPLOYMENTS = ['inline', 'thread', 'process'] as const;
export type Deployment = (typeof DEPLOYMENTS)[number];

export interface ModuleWorkerOptions {
  readonly config?: Record<string, unknown>;
  readonly entryPoint?: string;
  /** Any other worker keys (restart, stop_timeout, health_check...), the same for every deployment. */
  readonly worker?: Record<string, unknown>;
}

/** Accepts a path (relative to the current directory), a file: URL or `import.meta.resolve()`'s string. */
export function modulePathOf(file: string | URL): string {
  if (file instanceof URL) return fileURLToPath(file);
  return file.startsWith('file:') ? fileURLToPath(file) : path.resolve(file);
}

export function moduleWorker(deployment: Deployment, id: string, file: string | URL, options: ModuleWorkerOptions = {}): WorkerConfigInput {
  const module = {
    module_type: 'plugin' as const,
    module_path: modulePathOf(file),
    ...(options.entryPoint === undefined ? {} : { entry_point: options.entryPoint }),
    config: options.config ?? {},
  };
  const common = { id, ...options.worker };
  if (deployment === 'process') return { ...common, type: 'process', module } as WorkerConfigInput;
  return { ...common, type: 'module', module: { ...module, isolation: deployment } } as WorkerConfigInput;
}
