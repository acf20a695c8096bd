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

type JournalLine = { readonly op: 'add'; readonly pid: number; readonly start: number; readonly worker: string } | { readonly op: 'del'; readonly pid: number };

export interface ReapReport {
  /** Workers' processes left by a dead master and killed now. */
  readonly reaped: { worker: string; pid: number }[];
  /** Set when another live master owns this state directory. */
  readonly ownedBy?: number;
}

/** Compaction happens once the journal has this many lines more than the live set needs. */
const SLACK_LINES = 256;

export class PidRegistry {
  private readonly file: string;
  private readonly lock: StateLock;
  private readonly live = new Map<number, { worker: string; start: number }>();
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
   * this one), kill what a previous, dead master left behind. Throws on I/O errors.
   */
  claim(): ReapReport {
    const taken = this.lock.acquire();
    if (!taken.ok) return { reaped: [], ownedBy: taken.owner.pid };
    const reaped: { worker: string; pid: number }[] = [];
    for (const [pid, record] of replay(this.file)) {
      if (!isSameProcess({ pid, startTimeTicks: record.start })) continue;
      signalTree(pid, pid, 'SIGKILL');
      reaped.push({ worker: record.worker, pid });
    }
    // Now, synchronously: a directory we cannot write is an error at start, not a silent gap later.
    mkdirSync(this.stateDir, { recursive: true });
    this.compact();
    return { reaped };
  }

  add(worker: string, pid: number): void {
    const start = processIdentity(pid)?.startTimeTicks ?? 0;
    this.live.set(pid, { worker, start });
    this.append({ op: 'add', pid, start, worker });
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
    const body = [...this.live].map(([pid, r]) => `${JSON.stringify({ op: 'add', pid, start: r.start, worker: r.worker } satisfies JournalLine)}\n`).join('');
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

/** The live set a journal describes; a torn last line (a crash mid-append) is ignored. */
function replay(file: string): Map<number, { worker: string; start: number }> {
  const live = new Map<number, { worker: string; start: number }>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return live; // absent: nothing was left behind
  }
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let line: JournalLine;
    try {
      line = JSON.parse(raw) as JournalLine;
    } catch {
      continue;
    }
    if (line.op === 'add' && typeof line.pid === 'number' && typeof line.start === 'number') live.set(line.pid, { worker: String(line.worker), start: line.start });
    else if (line.op === 'del') live.delete(line.pid);
  }
  return live;
}
