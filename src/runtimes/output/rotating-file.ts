/**
 * A stream's segments written by the master (worker threads, hosted modules, and process workers
 * when split is not used). It never drops a byte silently: past 8 MiB not yet on disk the source
 * is paused until the backlog drains (the child waits on its pipe, as it would writing to a slow
 * disk itself), and when a segment fails (a full disk) every byte that could not be written is
 * counted, reported once in the log and shown in diagnostics.
 *
 * With `maxSize`, a segment is closed once it has passed max_size at the next newline, so a line
 * is never cut, except one with no newline within 1 MiB past max_size. With `timestamp`, each line
 * is prefixed by the time it arrived.
 */
import { createWriteStream, openSync, statSync, type WriteStream } from 'node:fs';
import type { Logger } from 'pino';
import { LineStamper } from './line-stamper.js';
import type { LogSegments } from './log-segments.js';

/** Unwritten bytes beyond which the source is paused until the file drains. */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;
/** How far past max_size a line without a newline may run before it is cut. */
export const LONG_LINE_SLACK = 1024 * 1024;
const NL = 0x0a;

export interface RotatingFileOptions {
  readonly segments: LogSegments;
  readonly maxSize?: number;
  readonly timestamp?: boolean;
  readonly logger: Logger;
}

export interface RotatingFileStats {
  /** The symlink that names the newest segment. */
  readonly file: string;
  bytes_written: number;
  bytes_dropped: number;
  error: string | null;
}

export class RotatingFile {
  readonly stats: RotatingFileStats;
  private stream: WriteStream | undefined;
  private current: number | undefined;
  /** Bytes handed to the current segment (written or queued). */
  private segmentBytes = 0;
  private lastByte = NL;
  /** Bytes handed to any segment's stream and not yet confirmed: the backpressure measure. */
  private pending = 0;
  private readonly drainWaiters: (() => void)[] = [];
  /** Segments whose streams have not closed yet (the current one included). */
  private readonly open = new Set<number>();
  private readonly closing = new Set<Promise<void>>();
  private readonly stamper: LineStamper | undefined;

  constructor(private readonly options: RotatingFileOptions) {
    this.stats = { file: options.segments.link, bytes_written: 0, bytes_dropped: 0, error: null };
    this.stamper = options.timestamp === true ? new LineStamper() : undefined;
  }

  /** Opens the newest segment for appending (or a new one when it is full or compressed); reopens after a failure. */
  openFile(): void {
    if (this.stream !== undefined && !this.stream.destroyed) return;
    if (this.current !== undefined) return this.openSegment(this.current, this.sizeOf(this.current) ?? 0);
    const segments = this.options.segments;
    const newest = segments.newest;
    const size = newest === undefined ? undefined : this.sizeOf(newest);
    const max = this.options.maxSize;
    if (newest !== undefined && size !== undefined && (max === undefined || size < max)) this.openSegment(newest, size);
    else this.openSegment(segments.allocate(), 0);
  }

  /** Appends `chunk`. Returns false when the caller should pause its source until `onDrain` fires. */
  write(chunk: Buffer): boolean {
    const data = this.stamper === undefined ? chunk : this.stamper.stamp(chunk);
    if (this.options.maxSize === undefined) this.put(data);
    else this.putRotating(data, this.options.maxSize);
    return this.pending < HIGH_WATER_BYTES;
  }

  /** A source (one instance's stream) ended: with timestamps, a line it left open is closed. */
  endSource(): void {
    const nl = this.stamper?.endLine();
    if (nl !== undefined) this.put(nl);
  }

  /** Calls `resume` once the backlog has drained (or the file has failed, so waiting is pointless). */
  onDrain(resume: () => void): void {
    if (this.stream === undefined || this.stream.destroyed || this.pending < HIGH_WATER_BYTES) resume();
    else this.drainWaiters.push(resume);
  }

  async close(): Promise<void> {
    this.endStream();
    this.releaseWaiters();
    await Promise.all([...this.closing]);
  }

  private putRotating(data: Buffer, max: number): void {
    let rest = data;
    while (rest.length > 0) {
      // A failed segment is not rotated: a full disk must not leave a trail of empty segments.
      if (this.stream === undefined || this.stream.destroyed) return this.put(rest);
      if (this.segmentBytes < max) {
        const piece = rest.subarray(0, max - this.segmentBytes);
        this.put(piece);
        rest = rest.subarray(piece.length);
        continue;
      }
      // Due: rotate at the next line boundary, or cut a line that runs too long.
      const hard = max + LONG_LINE_SLACK - this.segmentBytes;
      if (this.lastByte === NL || hard <= 0) {
        this.rotate();
        continue;
      }
      const nl = rest.subarray(0, hard).indexOf(NL);
      const cut = nl !== -1 ? nl + 1 : rest.length >= hard ? hard : -1;
      if (cut === -1) {
        this.put(rest);
        return;
      }
      this.put(rest.subarray(0, cut));
      rest = rest.subarray(cut);
      this.rotate();
    }
  }

  private put(data: Buffer): void {
    if (data.length === 0) return;
    const stream = this.stream;
    this.segmentBytes += data.length;
    this.lastByte = data[data.length - 1]!;
    if (stream === undefined || stream.destroyed || !stream.writable) {
      this.stats.bytes_dropped += data.length;
      return;
    }
    const bytes = data.length;
    this.pending += bytes;
    stream.write(data, (err) => {
      this.pending -= bytes;
      if (err === null || err === undefined) this.stats.bytes_written += bytes;
      else this.stats.bytes_dropped += bytes;
      if (this.pending < HIGH_WATER_BYTES) this.releaseWaiters();
    });
  }

  private rotate(): void {
    this.endStream();
    this.openSegment(this.options.segments.allocate(), 0);
  }

  private openSegment(n: number, size: number): void {
    const segments = this.options.segments;
    this.current = n;
    this.segmentBytes = size;
    this.lastByte = NL;
    let fd: number;
    try {
      segments.begin(n);
      fd = openSync(segments.path(n), 'a');
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    const stream = createWriteStream('', { fd });
    stream.on('error', (err) => {
      this.fail(err);
      this.releaseWaiters();
    });
    this.stream = stream;
    this.open.add(n);
    this.stats.error = null;
    this.releaseFinished();
  }

  /** Ends the current segment's stream; once it has closed, the segments before the oldest still open are released. */
  private endStream(): void {
    const stream = this.stream;
    const n = this.current;
    this.stream = undefined;
    if (stream === undefined || n === undefined) return;
    const closed = new Promise<void>((resolve) => {
      stream.once('close', resolve);
      if (stream.destroyed) resolve();
      else stream.end();
    }).then(() => {
      this.open.delete(n);
      this.closing.delete(closed);
      this.releaseFinished();
    });
    this.closing.add(closed);
  }

  /** Segments below the oldest one still open (or the current one) are done with. */
  private releaseFinished(): void {
    const inUse = [...this.open, ...(this.current === undefined ? [] : [this.current])];
    this.options.segments.release(inUse.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...inUse));
  }

  private fail(err: Error): void {
    // A full disk must not crash the master: the file stops here, what follows is counted.
    if (this.stats.error === null) {
      this.options.logger.error({ err, file: this.stats.file }, 'worker log file failed; output that cannot be written is counted as dropped');
    }
    this.stats.error = err.message;
  }

  private sizeOf(n: number): number | undefined {
    try {
      return statSync(this.options.segments.path(n)).size;
    } catch {
      return undefined;
    }
  }

  private releaseWaiters(): void {
    for (const resume of this.drainWaiters.splice(0)) resume();
  }
}
