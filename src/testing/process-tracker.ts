/**
 * Every process a test master started, found three ways: the pids its workers reported, their
 * descendants (snapshotted while they run, before a death reparents them), and an environment
 * marker inherited by anything a process worker forks. At the end whatever is left is SIGKILLed,
 * and also when the test process exits without closing the master (signal-exit).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { onExit } from 'signal-exit';
import { isSameProcess, listDescendantStats, processIdentity, type ProcessIdentity } from '../os/proc.js';

/** The variable every process worker of a test master gets: its value names that master. */
export const TEST_MARKER_VARIABLE = 'HSU_TEST_MARKER';

let created = 0;

export class ProcessTracker {
  readonly marker = `${process.pid}-${++created}-${Date.now().toString(36)}`;
  private readonly seen = new Map<string, ProcessIdentity>();
  private readonly removeExitHook: () => void;

  constructor() {
    // A runner that exits (or is interrupted) before close() must not leave workers behind.
    this.removeExitHook = onExit(() => void this.killAllSync(), { alwaysLast: true });
  }

  /** Records a worker's pid and what it has forked so far. */
  track(pid: number): void {
    for (const identity of [processIdentity(pid), ...listDescendantStats(pid).map((s) => ({ pid: s.pid, startTimeTicks: s.startTimeTicks }))]) {
      if (identity !== undefined) this.seen.set(`${identity.pid}:${identity.startTimeTicks}`, identity);
    }
  }

  /** Re-snapshots the descendants of every tracked process that is still alive. */
  refresh(): void {
    for (const identity of [...this.seen.values()]) if (isSameProcess(identity)) this.track(identity.pid);
  }

  /** Live processes this tracker knows of, by pid or by marker. */
  alive(): number[] {
    const pids = new Set<number>();
    for (const identity of this.seen.values()) if (isSameProcess(identity)) pids.add(identity.pid);
    for (const pid of markedProcesses(this.marker)) pids.add(pid);
    pids.delete(process.pid);
    return [...pids].sort((a, b) => a - b);
  }

  /** Polls until nothing is alive; returns what still was at the deadline. */
  async waitGone(timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const alive = this.alive();
      if (alive.length === 0 || Date.now() >= deadline) return alive;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  killAllSync(): number[] {
    const alive = this.alive();
    for (const pid of alive) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    return alive;
  }

  close(): void {
    this.removeExitHook();
  }
}

/** Live, non-zombie processes whose environment carries the marker. */
export function markedProcesses(marker: string): number[] {
  const needle = `\0${TEST_MARKER_VARIABLE}=${marker}\0`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (`\0${readFileSync(`/proc/${name}/environ`, 'latin1')}`.includes(needle)) {
        const identity = processIdentity(Number(name));
        if (identity !== undefined && isSameProcess(identity)) found.push(Number(name));
      }
    } catch {
      // gone, or another user's
    }
  }
  return found;
}
