/**
 * One stream's segment set in the log directory: which numbers exist (read from disk, so numbering
 * survives master restarts and a number is never reused), the symlink to the newest, retention
 * (`keep`) and compression (`gzip`) of the segments nobody writes or reads any more, and the
 * listing for diagnostics.
 *
 * Whoever writes a segment (split, or the master's RotatingFile) or still reads one (the
 * FileFollower) holds it by `release(below)`: only segments under that floor, and never the newest
 * on disk, are compressed or deleted. Metadata calls (readdir, symlink, rename, unlink) are
 * synchronous: microseconds each, and their order matters; compression runs off the loop.
 */
import { lstatSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { hsuError } from '../../errors.js';
import { PARTIAL_SUFFIX, gzipSegment } from './segment-gzip.js';
import { MAX_SEGMENT, linkName, parseSegmentName, segmentName } from './segment-names.js';

export interface SegmentInfo {
  /** Absolute path (ends in `.log.gz` when compressed). */
  readonly file: string;
  readonly bytes: number;
  readonly compressed: boolean;
}

export interface LogSegmentsOptions {
  readonly dir: string;
  /** `<id>.out` or `<id>.err`. */
  readonly key: string;
  /** Segments to keep, the newest included; null keeps all. */
  readonly keep?: number | null;
  readonly gzip?: boolean;
  readonly logger?: Logger;
}

export class LogSegments {
  /** `<dir>/<id>.<out|err>.log`: always names the newest segment. */
  readonly link: string;
  readonly dir: string;
  readonly key: string;
  /** Number -> compressed, for every segment on disk. */
  private readonly onDisk = new Map<number, boolean>();
  private highest = -1;
  /** Segments at or above this are being written or read. */
  private floor = Number.POSITIVE_INFINITY;
  private job: AbortController | undefined;
  /** The segment being compressed: retention waits for it. */
  private compressing: number | undefined;
  /** Compression failed once: left as it is until the next start. */
  private readonly failed = new Set<number>();
  private jobDone: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LogSegmentsOptions) {
    this.dir = options.dir;
    this.key = options.key;
    this.link = path.join(options.dir, linkName(options.key));
    this.scan();
  }

  /** The newest segment on disk, if any. */
  get newest(): number | undefined {
    return this.highest < 0 ? undefined : this.highest;
  }

  path(n: number): string {
    return path.join(this.dir, segmentName(this.key, n));
  }

  /** Reserves the next number (above everything on disk and everything handed out before). */
  allocate(): number {
    const n = this.highest + 1;
    if (n > MAX_SEGMENT) {
      throw hsuError('LOG_DIR_UNUSABLE', `${this.link}: segment numbers are exhausted (${MAX_SEGMENT}); remove old segments`, { log_dir: this.dir, file: this.link });
    }
    this.highest = n;
    return n;
  }

  /** Creates segment `n` (empty, or kept as is if it exists) and points the symlink at it. */
  begin(n: number): string {
    const file = this.path(n);
    writeFileSync(file, '', { flag: 'a' });
    this.noteSegment(n);
    return file;
  }

  /** A segment appeared (split created it): the symlink moves to it when it is the newest. */
  noteSegment(n: number): void {
    if (!this.onDisk.has(n)) this.onDisk.set(n, false);
    if (n > this.highest) this.highest = n;
    if (n === this.highest) this.pointLink(n);
  }

  /** Segments below `below` are finished with: they may be compressed and rotated away. */
  release(below: number): void {
    this.floor = below;
    this.tidy();
  }

  /** Every segment on disk, oldest first. */
  segments(): SegmentInfo[] {
    const out: SegmentInfo[] = [];
    for (const n of [...this.onDisk.keys()].sort((a, b) => a - b)) {
      // Compression may finish between our map and the disk: try both forms.
      const first = this.onDisk.get(n) === true;
      for (const compressed of [first, !first]) {
        const file = compressed ? `${this.path(n)}.gz` : this.path(n);
        try {
          out.push({ file, bytes: statSync(file).size, compressed });
          break;
        } catch {
          // the other form, or removed by hand
        }
      }
    }
    return out;
  }

  /** Reads the directory again: another writer (a split left by an earlier master) may have added segments. */
  refresh(): void {
    this.scan();
  }

  /** Stops compression in progress (the next start compresses that segment again). */
  async close(): Promise<void> {
    this.closed = true;
    this.job?.abort();
    await this.jobDone;
  }

  private scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      throw hsuError('LOG_DIR_UNUSABLE', `cannot read log directory ${this.dir}: ${(err as Error).message}`, { log_dir: this.dir }, err);
    }
    for (const name of names) {
      if (name.endsWith(PARTIAL_SUFFIX) && name.startsWith(`${this.key}.`)) {
        rmSync(path.join(this.dir, name), { force: true }); // a compression cut short by a crash
        continue;
      }
      const parsed = parseSegmentName(name);
      if (parsed === undefined || parsed.key !== this.key) continue;
      // Both forms can exist after a crash between rename and unlink: the .gz is complete by then.
      if (parsed.compressed && this.onDisk.get(parsed.number) === false) unlinkSync(this.path(parsed.number));
      if (!parsed.compressed && this.onDisk.get(parsed.number) === true) {
        unlinkSync(path.join(this.dir, name));
        continue;
      }
      this.onDisk.set(parsed.number, parsed.compressed);
      this.highest = Math.max(this.highest, parsed.number);
    }
    this.adoptPlainFile();
  }

  /** A regular file where the symlink belongs is a log from before segments: it becomes a segment, nothing is lost. */
  private adoptPlainFile(): void {
    let isPlain: boolean;
    try {
      isPlain = lstatSync(this.link).isFile();
    } catch {
      return;
    }
    if (!isPlain) return;
    const n = this.onDisk.size === 0 ? 0 : this.allocate();
    renameSync(this.link, this.path(n));
    this.onDisk.set(n, false);
    this.highest = Math.max(this.highest, n);
    this.pointLink(this.highest);
    this.options.logger?.info({ file: this.path(n) }, 'log file from before segments kept as a segment');
  }

  /** Atomic: a reader following the name sees the old target or the new one, never nothing. */
  private pointLink(n: number): void {
    const target = segmentName(this.key, n);
    try {
      if (readlinkSync(this.link) === target) return;
    } catch {
      // missing or not a symlink: replaced below
    }
    const temp = path.join(this.dir, `.${linkName(this.key)}.${process.pid}.tmp`);
    rmSync(temp, { force: true });
    symlinkSync(target, temp);
    renameSync(temp, this.link);
  }

  private tidy(): void {
    if (this.closed) return;
    const limit = Math.min(this.floor, this.highest);
    const numbers = [...this.onDisk.keys()].sort((a, b) => a - b);
    const keep = this.options.keep ?? null;
    let excess = keep === null ? 0 : numbers.length - keep;
    for (const n of numbers) {
      if (n >= limit) break;
      // Retention resumes once the compression ends (tidy runs again then), oldest first as always.
      if (n === this.compressing) {
        if (excess > 0) break;
        continue;
      }
      const compressed = this.onDisk.get(n) === true;
      const file = compressed ? `${this.path(n)}.gz` : this.path(n);
      if (excess > 0 || (!compressed && isEmpty(file))) {
        excess -= 1;
        rmSync(file, { force: true });
        this.onDisk.delete(n);
      }
    }
    if (this.options.gzip === true && this.job === undefined) this.compressNext(limit);
  }

  /** One compression at a time, oldest first: a backlog never floods the thread pool. */
  private compressNext(limit: number): void {
    let n: number | undefined;
    for (const [k, compressed] of this.onDisk) if (!compressed && k < limit && !this.failed.has(k) && (n === undefined || k < n)) n = k;
    if (n === undefined) return;
    const segment = n;
    const job = new AbortController();
    this.job = job;
    this.compressing = segment;
    this.jobDone = gzipSegment(this.path(segment), job.signal)
      .then(
        () => {
          if (this.onDisk.has(segment)) this.onDisk.set(segment, true);
        },
        (err: unknown) => {
          if (job.signal.aborted) return;
          // Not retried by this master: a failing disk would otherwise loop. The next start tries again.
          this.failed.add(segment);
          this.options.logger?.error({ err, file: this.path(segment) }, 'log segment could not be compressed; it stays uncompressed');
        },
      )
      .finally(() => {
        this.job = undefined;
        this.compressing = undefined;
        this.tidy();
      });
  }
}

/** The segments of `key` in `dir`, oldest first, read without touching anything (diagnostics of a closed capture). */
export function listSegments(dir: string, key: string): SegmentInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: (SegmentInfo & { n: number })[] = [];
  for (const name of names) {
    const parsed = parseSegmentName(name);
    if (parsed === undefined || parsed.key !== key) continue;
    const file = path.join(dir, name);
    try {
      found.push({ n: parsed.number, file, bytes: statSync(file).size, compressed: parsed.compressed });
    } catch {
      // removed meanwhile
    }
  }
  return found.sort((a, b) => a.n - b.n).map(({ file, bytes, compressed }) => ({ file, bytes, compressed }));
}

function isEmpty(file: string): boolean {
  try {
    return statSync(file).size === 0;
  } catch {
    return false;
  }
}
