/**
 * One stream of a process worker whose files split writes: the SplitWriter (one for every
 * instance, replaced only when it is gone), the FileFollower reading what split wrote, and the
 * LineCopier that turns it into budgeted copies for the master log with exact counts.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { FileFollower } from './file-follower.js';
import type { LineCopier } from './line-copier.js';
import type { LogSegments } from './log-segments.js';
import { splitDrained } from './split-drain.js';
import { SplitWriter, type SplitExit } from './split-writer.js';

/** How long close() waits for split to exit once the master's write end is closed. */
const SPLIT_EXIT_WAIT_MS = 2_000;

export interface FollowedStreamOptions {
  readonly segments: LogSegments;
  readonly copier: LineCopier;
  /** The split to start; null when this master has none (it can still follow an adopted instance's files). */
  readonly binary: string | null;
  readonly maxSize: number | null;
  readonly logger: Logger;
  /** Split failed while serving: the rest of the stream, for the master to write (see SplitWriter). */
  readonly onTakeover?: (rest: Readable) => void;
}

export class FollowedStream {
  private writer: SplitWriter | undefined;
  private starting: Promise<SplitWriter> | undefined;
  private follower: FileFollower | undefined;
  /** Bytes read by followers closed before (a capture outlives a close and a reopen). */
  private closedBytes = 0;
  private lastExit: SplitExit | null = null;

  constructor(private readonly options: FollowedStreamOptions) {}

  get bytes(): number {
    return this.closedBytes + (this.follower?.bytes ?? 0);
  }

  get splitPid(): number | undefined {
    return this.writer?.pid;
  }

  /** Why the last split ended when it was not asked to, for diagnostics. */
  get error(): string | null {
    if (this.writer !== undefined) return this.writer.error;
    return this.lastExit?.error ?? null;
  }

  /** The write end for the next instance's stdout or stderr; starts a split when none is running. */
  async stdio(): Promise<Socket> {
    const current = this.writer;
    if (current !== undefined && current.exit === undefined) return current.stdin;
    this.starting ??= this.startWriter().finally(() => (this.starting = undefined));
    return (await this.starting).stdin;
  }

  /** Follows the newest segment from its end (an adopted instance's split keeps writing it). */
  followFromEnd(): void {
    this.follower ??= this.follow('end');
  }

  /** Resolves when what is on disk now has been read (and copied or counted). */
  caughtUp(): Promise<void> {
    return this.follower?.caughtUp() ?? Promise.resolve();
  }

  /**
   * After an instance exited: waits (bounded) until our split has taken all it wrote (see
   * split-drain.ts), then reads what is on disk. An adopted instance's split is not ours to
   * watch: what is on disk is read.
   */
  async instanceDrained(timeoutMs: number): Promise<void> {
    const pid = this.writer?.exit === undefined ? this.writer?.pid : undefined;
    if (pid !== undefined) await splitDrained(pid, timeoutMs);
    await this.caughtUp();
  }

  /** Ends the master's write end, waits (bounded) for split to exit, reads what it wrote last, then stops following. */
  async close(): Promise<void> {
    const writer = this.writer;
    this.writer = undefined;
    if (writer !== undefined) {
      const exited = await writer.end(SPLIT_EXIT_WAIT_MS);
      if (!exited) this.options.logger.warn({ split_pid: writer.pid, segments: this.options.segments.key }, 'log writer (split) still has a writer after the worker stopped; left to finish');
      this.lastExit = writer.exit ?? null;
    }
    const follower = this.follower;
    this.follower = undefined;
    if (follower !== undefined) {
      await follower.caughtUp();
      await follower.close();
      this.closedBytes += follower.bytes;
    }
    this.options.copier.finish();
  }

  private async startWriter(): Promise<SplitWriter> {
    if (this.writer !== undefined) this.lastExit = this.writer.exit ?? null;
    const binary = this.options.binary;
    if (binary === null) throw new Error('no usable GNU split: this stream can only be followed');
    const writer = await SplitWriter.start({
      binary,
      segments: this.options.segments,
      ...(this.options.maxSize === null ? {} : { maxSize: this.options.maxSize }),
      logger: this.options.logger,
      ...(this.options.onTakeover === undefined ? {} : { onTakeover: this.options.onTakeover }),
    });
    this.writer = writer;
    // A follower already running (an adopted instance's segments) reaches the new segment by itself.
    this.follower ??= this.follow({ segment: writer.first, offset: 0 });
    return writer;
  }

  private follow(start: ConstructorParameters<typeof FileFollower>[0]['start']): FileFollower {
    const copier = this.options.copier;
    return new FileFollower({ segments: this.options.segments, start, onData: (chunk) => copier.push(chunk), logger: this.options.logger });
  }
}
