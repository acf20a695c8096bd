/** What every benchmark file shares: fixture paths, a scratch log dir, the result row, small waits. */
import type { Master, MasterEvents, WorkerOutputEvent } from '../src/index.js';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/bench/common.js -> repository root; fixtures are plain .mjs and stay in the source tree. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function fixture(name: string): string {
  return path.join(repoRoot, 'bench', 'fixtures', name);
}

/** One line of the final table. `status` is 'info' when the issue sets no target for the row. */
export interface Row {
  readonly name: string;
  /** p50 for latencies, ops/s for throughput, MB for memory. */
  readonly value: string;
  /** p90 / p99 for latencies; empty otherwise. */
  readonly spread: string;
  readonly floor: string;
  readonly ratio: string;
  readonly target: string;
  readonly status: 'pass' | 'MISS' | 'info';
}

export function verdict(ok: boolean): 'pass' | 'MISS' {
  return ok ? 'pass' : 'MISS';
}

/** A scratch directory for per-worker log files, removed by the returned function. */
export function scratchDir(label: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hsu-bench-${label}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Live children of this process, read from /proc: the "no leftovers" check after each benchmark. */
export function liveChildren(): number[] {
  const me = process.pid;
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === me && rest[0] !== 'Z') out.push(Number(name));
    } catch {
      // exited between readdir and read
    }
  }
  return out;
}

/** Progress goes to stderr so stdout stays the table. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Resolves with the next event `name` of `emitter` that satisfies `match`, then stops listening. */
export function nextEvent<K extends keyof MasterEvents>(master: Master, name: K, match: (event: MasterEvents[K]) => boolean): Promise<MasterEvents[K]> {
  return master.once(name, match);
}

/** Resolves once `count` different workers have written an output line (each child's first line), then stops listening. */
export function firstLineFromEach(master: Master, count: number): Promise<void> {
  const seen = new Set<string>();
  return new Promise<void>((resolve) => {
    const onLine = (e: WorkerOutputEvent): void => {
      seen.add(e.worker_id);
      if (seen.size < count) return;
      master.off('output', onLine);
      resolve();
    };
    master.on('output', onLine);
  });
}
