/**
 * The difference between the workers a master runs and the ones a config file now declares, for
 * reload. Configs are compared parsed and resolved (durations in ms, defaults filled, paths
 * absolute) by deep equality, so `stop_timeout: 10s` and `stop_timeout: 10000` are the same and a
 * reordered mapping is no change; only what a worker would run differently counts.
 */
import { isDeepStrictEqual } from 'node:util';
import type { WorkerConfig } from './schema.js';

export interface WorkerChange {
  readonly id: string;
  readonly before: WorkerConfig;
  readonly after: WorkerConfig;
  /** Top-level keys that differ (`module.config` when only that block does). */
  readonly keys: string[];
  /** Only the module's `config:` block differs: a module that can reconfigure itself needs no restart. */
  readonly onlyModuleConfig: boolean;
}

export interface ConfigDiff {
  /** In the order of the new file. */
  readonly added: WorkerConfig[];
  /** Ids, in the order they ran. */
  readonly removed: string[];
  readonly changed: WorkerChange[];
  readonly unchanged: string[];
}

export function diffWorkers(current: readonly WorkerConfig[], next: readonly WorkerConfig[]): ConfigDiff {
  const before = new Map(current.map((worker) => [worker.id, worker]));
  const nextIds = new Set(next.map((worker) => worker.id));
  const added: WorkerConfig[] = [];
  const changed: WorkerChange[] = [];
  const unchanged: string[] = [];
  for (const after of next) {
    const old = before.get(after.id);
    if (old === undefined) added.push(after);
    else if (isDeepStrictEqual(old, after)) unchanged.push(after.id);
    else changed.push(describeChange(old, after));
  }
  const removed = current.filter((worker) => !nextIds.has(worker.id)).map((worker) => worker.id);
  return { added, removed, changed, unchanged };
}

function describeChange(before: WorkerConfig, after: WorkerConfig): WorkerChange {
  const onlyModuleConfig = before.module !== undefined && after.module !== undefined && isDeepStrictEqual(before, withModuleConfig(after, before.module.config));
  const keys = onlyModuleConfig ? ['module.config'] : differingKeys(before, after);
  return { id: after.id, before, after, keys, onlyModuleConfig };
}

function withModuleConfig(worker: WorkerConfig, config: Record<string, unknown>): WorkerConfig {
  return { ...worker, module: { ...worker.module, config } } as WorkerConfig;
}

function differingKeys(before: WorkerConfig, after: WorkerConfig): string[] {
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key) => !isDeepStrictEqual(a[key], b[key]));
}
