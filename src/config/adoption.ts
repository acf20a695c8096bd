/**
 * Which workers a later master may adopt after a crash, and the hash that says whether a process
 * was started from the config a worker has now (a process started from another config is never
 * adopted: it is killed and started afresh).
 */
import { createHash } from 'node:crypto';
import type { WorkerConfig } from './schema.js';

/** A plain, managed or integrated process worker with `on_master_restart: adopt`. */
export function adoptable(config: WorkerConfig): boolean {
  return config.type === 'process' && config.execution !== undefined && config.management !== 'unmanaged' && config.on_master_restart === 'adopt';
}

/** The config as a stable hash: key order does not matter. */
export function configHash(config: WorkerConfig): string {
  return createHash('sha256').update(stableJson(config)).digest('hex').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${stableJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
