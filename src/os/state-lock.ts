/**
 * Exclusive ownership of a state directory: `<dir>/master.lock`, created with O_EXCL and holding
 * the owner's identity (pid + start time). A lock whose owner is gone is broken under a second
 * exclusive file (`master.lock.break`), so two masters starting at once cannot both break the same
 * stale lock and both believe they won. Node has no flock(); exclusive creation is the portable
 * atomic primitive, and pid + start time tells a dead owner from a live one without guessing by age.
 */
import { mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isSameProcess, processIdentity, type ProcessIdentity } from './proc.js';

/** A lock file without a readable owner younger than this is being written right now. */
const TORN_GRACE_MS = 2_000;
/** A break file older than this belongs to a master that died while breaking a lock. */
const STALE_BREAK_MS = 5_000;
const ATTEMPTS = 50;

export type LockResult = { readonly ok: true } | { readonly ok: false; readonly owner: ProcessIdentity };

export class StateLock {
  readonly file: string;
  private readonly breakFile: string;
  private readonly self: ProcessIdentity;
  private held = false;

  constructor(readonly dir: string) {
    this.file = path.join(dir, 'master.lock');
    this.breakFile = `${this.file}.break`;
    this.self = processIdentity(process.pid) ?? { pid: process.pid, startTimeTicks: 0 };
  }

  /** Takes the lock, or names its live owner. Throws on I/O errors (an unwritable directory). */
  acquire(): LockResult {
    mkdirSync(this.dir, { recursive: true });
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (createExclusive(this.file, JSON.stringify(this.self))) {
        this.held = true;
        return { ok: true };
      }
      const owner = readOwner(this.file);
      if (owner !== undefined && isSameProcess(owner)) return { ok: false, owner };
      if (owner === undefined && ageMs(this.file) < TORN_GRACE_MS) {
        sleepSync(10); // another master is between creating and writing its lock
        continue;
      }
      this.breakStale(owner);
    }
    throw new Error(`could not take ${this.file} after ${ATTEMPTS} attempts`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    const owner = readOwner(this.file);
    if (owner !== undefined && owner.pid === this.self.pid && owner.startTimeTicks === this.self.startTimeTicks) unlinkQuietly(this.file);
  }

  private breakStale(seen: ProcessIdentity | undefined): void {
    if (!createExclusive(this.breakFile, JSON.stringify(this.self))) {
      if (ageMs(this.breakFile) > STALE_BREAK_MS) unlinkQuietly(this.breakFile);
      else sleepSync(10);
      return;
    }
    try {
      // Re-read under the break lock: only the stale owner we saw may be removed, never a new winner.
      const now = readOwner(this.file);
      const same = now === undefined ? seen === undefined : seen !== undefined && now.pid === seen.pid && now.startTimeTicks === seen.startTimeTicks;
      if (same && (now === undefined || !isSameProcess(now))) unlinkQuietly(this.file);
    } finally {
      unlinkQuietly(this.breakFile);
    }
  }
}

function createExclusive(file: string, content: string): boolean {
  try {
    writeFileSync(file, content, { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function readOwner(file: string): ProcessIdentity | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProcessIdentity>;
    return typeof data.pid === 'number' && typeof data.startTimeTicks === 'number' ? { pid: data.pid, startTimeTicks: data.startTimeTicks } : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
