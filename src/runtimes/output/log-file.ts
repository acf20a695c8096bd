/**
 * One per-worker log file (`<id>.out.log` / `.err.log`), appended across restarts. It never drops
 * a byte silently: when the disk falls behind, the writer tells the reader to pause its stream (the
 * child then waits on its pipe, as it would writing to a slow disk itself), and if the file fails
 * (a full disk), every byte that could not be written is counted, reported once in the log and
 * shown in diagnostics.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from 'pino';

/** Unwritten bytes beyond which the source is paused until the file drains. */
const HIGH_WATER_BYTES = 8 * 1024 * 1024;

export interface LogFileStats {
  readonly file: string;
  bytes_written: number;
  bytes_dropped: number;
  error: string | null;
}

export class LogFile {
  readonly stats: LogFileStats;
  private stream: WriteStream | undefined;
  private readonly drainWaiters: (() => void)[] = [];

  constructor(
    readonly path: string,
    private readonly logger: Logger,
  ) {
    this.stats = { file: path, bytes_written: 0, bytes_dropped: 0, error: null };
  }

  /** Opens (or reopens after a failure) the file for appending. */
  open(): void {
    if (this.stream !== undefined && !this.stream.destroyed) return;
    const stream = createWriteStream(this.path, { flags: 'a' });
    stream.on('error', (err) => {
      // A full disk must not crash the master: the file stops here, what follows is counted.
      this.stats.error = err.message;
      this.logger.error({ err, file: this.path, bytes_dropped_from_now: true }, 'worker log file failed; output that cannot be written is counted as dropped');
      this.releaseWaiters();
    });
    stream.on('drain', () => this.releaseWaiters());
    this.stream = stream;
    this.stats.error = null;
  }

  /**
   * Appends `chunk`. Returns false when the caller should pause its source until `onDrain` fires.
   */
  write(chunk: Buffer): boolean {
    const stream = this.stream;
    if (stream === undefined || stream.destroyed || !stream.writable) {
      this.stats.bytes_dropped += chunk.length;
      return true;
    }
    stream.write(chunk, (err) => {
      if (err === null || err === undefined) this.stats.bytes_written += chunk.length;
      else this.stats.bytes_dropped += chunk.length;
    });
    return stream.writableLength < HIGH_WATER_BYTES;
  }

  /** Calls `resume` once the backlog has drained (or the file has failed, so waiting is pointless). */
  onDrain(resume: () => void): void {
    if (this.stream === undefined || this.stream.destroyed || this.stream.writableLength < HIGH_WATER_BYTES) resume();
    else this.drainWaiters.push(resume);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    this.releaseWaiters();
    if (stream === undefined || stream.destroyed) return;
    await new Promise<void>((resolve) => stream.end(resolve));
  }

  private releaseWaiters(): void {
    for (const resume of this.drainWaiters.splice(0)) resume();
  }
}
