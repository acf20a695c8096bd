/**
 * Remembers which processes this master spawned, on disk, so that a master killed with SIGKILL
 * (no exit hook runs) leaves nothing behind for long: the next master with the same state
 * directory reaps them before it starts anything. Processes are recognised by pid AND start time,
 * so a recycled pid is never killed. Ownership of the directory is the {@link StateLock}'s.
 *
 * The record is an append-only journal (`pids.jsonl`): a spawn or an exit appends one short line
 * (O(1), and on disk before the master can die without saying so), and the journal is compacted
 * to the live set only when it has grown well past it. Rewriting the whole file on every spawn
 * and exit, as before, cost O(n) each: quadratic for a master starting a thousand processes.
 */
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { signalTree } from './kill-tree.js';
import { isSameProcess } from './proc.js';
import { processIdentity } from './proc.js';
import { StateLock } from './state-lock.js';

/** What a later master needs to adopt a process instead of killing it. */
export interface ProcessFacts {
  /** The worker's config, hashed: a process started from another config is never adopted. */
  readonly hash?: string;
  readonly cgroup?: string;
  readonly port?: number;
  readonly host?: string;
}

type JournalLine = ({ readonly op: 'add'; readonly pid: number; readonly start: number; readonly worker: string } & ProcessFacts) | { readonly op: 'del'; readonly pid: number };

/** A process a dead master left running: adopt it, or kill it. */
export interface OrphanRecord extends ProcessFacts {
  readonly worker: string;
  readonly pid: number;
  readonly start: number;
}

export interface ClaimReport {
  /** Processes left by a dead master that are still running (same pid and start time). */
  readonly orphans: OrphanRecord[];
  /** Every cgroup a predecessor in this directory recorded (its processes alive or not): the groups it may have left. */
  readonly cgroups: string[];
  /** Set when another live master owns this state directory. */
  readonly ownedBy?: number;
}

/** Compaction happens once the journal has this many lines more than the live set needs. */
const SLACK_LINES = 256;

export class PidRegistry {
  private readonly file: string;
  private readonly lock: StateLock;
  private readonly live = new Map<number, OrphanRecord>();
  private lines = 0;
  private closed = false;

  constructor(
    private readonly stateDir: string,
    private readonly onWriteError: (error: unknown) => void = () => undefined,
  ) {
    this.file = path.join(stateDir, 'pids.jsonl');
    this.lock = new StateLock(stateDir);
  }

  /**
   * Claim the directory: refuse one whose master is alive (another process, or another Master in
   * this one), and name what a previous, dead master left running (the caller adopts or kills each
   * with {@link adopt} or {@link kill}). Orphans stay in the journal until then, so a master that
   * dies before deciding leaves them findable. Throws on I/O errors.
   */
  claim(): ClaimReport {
    const taken = this.lock.acquire();
    if (!taken.ok) return { orphans: [], cgroups: [], ownedBy: taken.owner.pid };
    const orphans: OrphanRecord[] = [];
    const { live, cgroups } = replay(this.file);
    for (const record of live.values()) {
      if (isSameProcess({ pid: record.pid, startTimeTicks: record.start })) orphans.push(record);
    }
    for (const orphan of orphans) this.live.set(orphan.pid, orphan);
    // Now, synchronously: a directory we cannot write is an error at start, not a silent gap later.
    mkdirSync(this.stateDir, { recursive: true });
    this.compact();
    return { orphans, cgroups: [...cgroups] };
  }

  add(worker: string, pid: number, facts: ProcessFacts = {}): void {
    const start = processIdentity(pid)?.startTimeTicks ?? 0;
    const record: OrphanRecord = { worker, pid, start, ...facts };
    this.live.set(pid, record);
    this.append({ op: 'add', ...record });
  }

  /** An orphan is supervised again: it stays recorded (under this master) until it exits. */
  adopt(orphan: OrphanRecord): void {
    this.live.set(orphan.pid, orphan);
  }

  /** An orphan that is not adopted: killed with its tree (same pid and start time only), then forgotten. */
  kill(orphan: OrphanRecord): void {
    if (isSameProcess({ pid: orphan.pid, startTimeTicks: orphan.start })) signalTree(orphan.pid, orphan.pid, 'SIGKILL');
    this.remove(orphan.pid);
  }

  remove(pid: number): void {
    if (!this.live.delete(pid)) return;
    this.append({ op: 'del', pid });
    if (this.lines > 2 * this.live.size + SLACK_LINES) this.compact();
  }

  /** Nothing of ours runs any more: remove the journal and release the directory. */
  close(): Promise<void> {
    this.closeSync();
    return Promise.resolve();
  }

  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    this.live.clear();
    try {
      rmSync(this.file, { force: true });
    } catch (error) {
      this.onWriteError(error);
    }
    this.lock.release();
  }

  // A full disk is exactly when services crash: losing a record must not take the supervisor down.
  private append(line: JournalLine): void {
    if (this.closed) return;
    try {
      appendFileSync(this.file, `${JSON.stringify(line)}\n`);
      this.lines += 1;
    } catch (error) {
      this.onWriteError(error);
    }
  }

  /** Rewrites the journal as the live set; write-then-rename, so a crash never leaves a torn file. */
  private compact(): void {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const body = [...this.live.values()].map((r) => `${JSON.stringify({ op: 'add', ...r } satisfies JournalLine)}\n`).join('');
    try {
      writeFileSync(tmp, body);
      renameSync(tmp, this.file);
      this.lines = this.live.size;
    } catch (error) {
      if (this.lines === 0 && this.live.size === 0) throw error; // at claim: the directory is unusable
      this.onWriteError(error);
    }
  }
}

/** The live set a journal describes, and every cgroup it names; a torn last line (a crash mid-append) is ignored. */
function replay(file: string): { live: Map<number, OrphanRecord>; cgroups: Set<string> } {
  const live = new Map<number, OrphanRecord>();
  const cgroups = new Set<string>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { live, cgroups }; // absent: nothing was left behind
  }
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let line: JournalLine;
    try {
      line = JSON.parse(raw) as JournalLine;
    } catch {
      continue;
    }
    if (line.op === 'add' && typeof line.pid === 'number' && typeof line.start === 'number') {
      const { op: _op, ...record } = line;
      live.set(line.pid, { ...record, worker: String(line.worker) });
      if (typeof line.cgroup === 'string') cgroups.add(line.cgroup);
    } else if (line.op === 'del') live.delete(line.pid);
  }
  return { live, cgroups };
}
