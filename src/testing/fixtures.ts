/**
 * Misbehaving processes, for testing supervision settings (stop_timeout, restart policy, limits,
 * output budgets) against the real thing: each returns an `execution` block that runs one of
 * hsu's own fixture scripts with this Node. Every fixture prints "ready" once it misbehaves.
 * @example
 * tm.add({ id: 'stubborn', type: 'process', execution: misbehaving.ignoresSigterm(), stop_timeout: '200ms' });
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerConfigInput } from '../config/index.js';

export interface FixtureExecution {
  readonly executable_path: string;
  readonly args: string[];
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

export function fixturePath(name: string): string {
  return path.join(HERE, 'fixtures', `${name}.js`);
}

function run(name: string, args: readonly (string | number)[] = []): FixtureExecution {
  return { executable_path: process.execPath, args: [fixturePath(name), ...args.map(String)] };
}

export const misbehaving = {
  /** Only SIGKILL ends it: a stop takes the whole stop_timeout and is reported as forced. */
  ignoresSigterm: (): FixtureExecution => run('ignores-sigterm'),
  /** Forks `count` grandchildren that live forever; `detached` puts each in its own session and process group. */
  forksGrandchildren: (options: { count?: number; detached?: boolean } = {}): FixtureExecution => run('forks-grandchildren', [options.count ?? 2, options.detached === true ? 'detached' : 'attached']),
  /** Writes `mib` MiB (default: forever) of output as fast as it is read. */
  floodsOutput: (options: { mib?: number; stream?: 'stdout' | 'stderr'; newlines?: boolean } = {}): FixtureExecution =>
    run('floods-output', [options.mib ?? 'forever', options.stream ?? 'stdout', options.newlines === false ? 'no-newline' : 'lines']),
  /** Grows by `mb_per_second` (default 10) of resident memory each second, up to `max_mb`. */
  leaksMemory: (options: { mb_per_second?: number; max_mb?: number } = {}): FixtureExecution =>
    run('leaks-memory', [options.mb_per_second ?? 10, ...(options.max_mb === undefined ? [] : [options.max_mb])]),
  /** Ends `ms` after it started: with `exit_code` (default 1), by `signal`, or by an uncaught exception (`throw: true`). */
  crashesAfter: (ms: number, options: { exit_code?: number; signal?: NodeJS.Signals; throw?: boolean } = {}): FixtureExecution =>
    run('crashes-after', [ms, options.throw === true ? 'throw' : (options.signal ?? options.exit_code ?? 1)]),
} as const;

/** A whole process worker entry around a fixture; `extra` adds any worker keys (restart, stop_timeout, limits...). */
export function misbehavingWorker(id: string, execution: FixtureExecution, extra: Record<string, unknown> = {}): WorkerConfigInput {
  return { id, type: 'process', execution, ...extra } as WorkerConfigInput;
}
