/**
 * Remembers which processes this master spawned, on disk, so that a master killed with SIGKILL
 * (no exit hook runs) leaves nothing behind for long: the next master with the same state
 * directory reaps them before it starts anything. Processes are recognised by pid AND start time,
 * so a recycled pid is never killed.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { signalQuietly, signalTree } from './kill-tree.js';
import { isSameProcess, processIdentity, type ProcessIdentity } from './proc.js';

interface RegistryFile {
  readonly owner: ProcessIdentity;
  readonly processes: readonly { readonly worker: string; readonly pid: number; readonly startTimeTicks: number }[];
}

export interface ReapReport {
  /** Workers' processes left by a dead master and killed now. */
  readonly reaped: { worker: string; pid: number }[];
  /** Set when another live master owns this state directory. */
  readonly ownedBy?: number;
}

export class PidRegistry {
  private readonly file: string;
  private readonly owner: ProcessIdentity;
  private readonly live = new Map<number, { worker: string; startTimeTicks: number }>();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'pids.json');
    const self = processIdentity(process.pid);
    this.owner = self ?? { pid: process.pid, startTimeTicks: 0 };
  }

  /** Kill what a previous, dead master left behind; refuse to touch a live master's processes. */
  reapOrphans(): ReapReport {
    const previous = this.read();
    if (previous === undefined) return { reaped: [] };
    const sameMaster = previous.owner.pid === this.owner.pid && previous.owner.startTimeTicks === this.owner.startTimeTicks;
    if (!sameMaster && isSameProcess(previous.owner)) return { reaped: [], ownedBy: previous.owner.pid };
    const reaped: { worker: string; pid: number }[] = [];
    for (const record of previous.processes) {
      if (sameMaster && this.live.has(record.pid)) continue;
      if (!isSameProcess({ pid: record.pid, startTimeTicks: record.startTimeTicks })) continue;
      signalTree(record.pid, record.pid, 'SIGKILL');
      signalQuietly(record.pid, 'SIGKILL');
      reaped.push({ worker: record.worker, pid: record.pid });
    }
    this.write();
    return { reaped };
  }

  add(worker: string, pid: number): void {
    const identity = processIdentity(pid);
    this.live.set(pid, { worker, startTimeTicks: identity?.startTimeTicks ?? 0 });
    this.write();
  }

  remove(pid: number): void {
    if (this.live.delete(pid)) this.write();
  }

  /** Nothing of ours runs any more: remove the file. */
  clear(): void {
    this.live.clear();
    rmSync(this.file, { force: true });
  }

  private read(): RegistryFile | undefined {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as RegistryFile;
    } catch {
      return undefined; // absent or torn: nothing we can trust to kill
    }
  }

  // Write-then-rename: a crash mid-write never leaves a torn file.
  private write(): void {
    const data: RegistryFile = {
      owner: this.owner,
      processes: [...this.live].map(([pid, r]) => ({ worker: r.worker, pid, startTimeTicks: r.startTimeTicks })),
    };
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, this.file);
  }
}
