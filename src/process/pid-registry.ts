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

/** State directories claimed by masters of this process: two masters must never share one. */
const claimedHere = new Set<string>();

export class PidRegistry {
  private readonly file: string;
  private readonly owner: ProcessIdentity;
  private readonly live = new Map<number, { worker: string; startTimeTicks: number }>();

  constructor(
    private readonly stateDir: string,
    private readonly onWriteError: (error: unknown) => void = () => undefined,
  ) {
    this.file = path.join(stateDir, 'pids.json');
    const self = processIdentity(process.pid);
    this.owner = self ?? { pid: process.pid, startTimeTicks: 0 };
  }

  /**
   * Claim the directory: kill what a previous, dead master left behind, refuse one whose master is
   * alive (another process, or another Master in this one), and write the claim at once so that a
   * directory we cannot write is an error now, not a silent gap later. Throws on I/O errors.
   */
  claim(): ReapReport {
    if (claimedHere.has(this.stateDir)) return { reaped: [], ownedBy: process.pid };
    const previous = this.read();
    const reaped: { worker: string; pid: number }[] = [];
    if (previous !== undefined && previous.owner.pid !== this.owner.pid && isSameProcess(previous.owner)) {
      return { reaped, ownedBy: previous.owner.pid };
    }
    for (const record of previous?.processes ?? []) {
      if (!isSameProcess({ pid: record.pid, startTimeTicks: record.startTimeTicks })) continue;
      signalTree(record.pid, record.pid, 'SIGKILL');
      signalQuietly(record.pid, 'SIGKILL');
      reaped.push({ worker: record.worker, pid: record.pid });
    }
    this.write();
    claimedHere.add(this.stateDir);
    return { reaped };
  }

  add(worker: string, pid: number): void {
    const identity = processIdentity(pid);
    this.live.set(pid, { worker, startTimeTicks: identity?.startTimeTicks ?? 0 });
    this.writeQuietly();
  }

  remove(pid: number): void {
    if (this.live.delete(pid)) this.writeQuietly();
  }

  /** Nothing of ours runs any more: remove the file and release the claim. */
  clear(): void {
    this.live.clear();
    claimedHere.delete(this.stateDir);
    try {
      rmSync(this.file, { force: true });
    } catch (error) {
      this.onWriteError(error);
    }
  }

  // A full disk is exactly when services crash: losing a record must not take the supervisor down.
  private writeQuietly(): void {
    try {
      this.write();
    } catch (error) {
      this.onWriteError(error);
    }
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
