/**
 * Follows one stream's newest segment while another process (split) writes it: for the master's
 * log copy and output events. Woken by inotify (the shared directory watch), it reads from the
 * last offset with positional reads until end of file, one read loop at a time (events that
 * arrive meanwhile only ask for one more pass, started 10 ms later while output keeps coming),
 * and moves to the next segment once it has appeared and the current one is drained. Idle, it
 * costs nothing: no timer, no poll.
 *
 * Order matters when switching: the next segment is looked for before the current one is read to
 * its end. Split writes a segment fully before it creates the next, so a segment seen to exist
 * proves the previous one final; reading first and looking second could miss a last write.
 */
import { readdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { watchSegments } from './dir-watch.js';
import type { LogSegments } from './log-segments.js';
import { parseSegmentName } from './segment-names.js';

/**
 * Read size, from 16 KiB up to 1 MiB: under a flood each positional read is a thread-pool round trip,
 * and fewer, larger ones cost less; but a buffer that size for each of a master's idle streams was
 * 40 MiB of it for 20 workers. A read that fills the buffer doubles it, up to the maximum.
 */
const MIN_READ_BYTES = 16 * 1024;
const MAX_READ_BYTES = 1024 * 1024;
/** While output keeps arriving, passes are at least this far apart (the copy lags by at most this much more). */
const COALESCE_MS = 10;

export interface FollowStart {
  readonly segment: number;
  readonly offset: number;
}

export interface FileFollowerOptions {
  readonly segments: LogSegments;
  /** A segment and offset, or 'end': the end of the newest segment (adopting a running writer). */
  readonly start: FollowStart | 'end';
  /** Bytes in file order. The buffer is reused: valid only during the call. */
  readonly onData: (chunk: Buffer) => void;
  readonly logger?: Logger;
}

export class FileFollower {
  /** Bytes read so far. */
  bytes = 0;
  private segment: number | undefined;
  private offset = 0;
  private handle: FileHandle | undefined;
  /** Segments newer than the current one, seen in the directory. */
  private readonly ahead = new Set<number>();
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private buffer = Buffer.allocUnsafe(MIN_READ_BYTES);
  private readonly unwatch: () => Promise<void>;
  private readonly passWaiters: (() => void)[] = [];
  /** Ends the coalescing pause early. */
  private wake: (() => void) | undefined;

  constructor(private readonly options: FileFollowerOptions) {
    const segments = options.segments;
    // Watch first: a segment created between the listing and the watch would otherwise be missed.
    this.unwatch = watchSegments(path.resolve(segments.dir), segments.key, (name) => this.onEvent(name));
    if (options.start === 'end') {
      this.segment = segments.newest;
      this.offset = Number.POSITIVE_INFINITY; // resolved to the size when the file is opened
    } else {
      this.segment = options.start.segment;
      this.offset = options.start.offset;
    }
    this.rescan();
    this.kick();
  }

  /** The segment being read and the offset reached. */
  get position(): { segment: number | undefined; offset: number } {
    return { segment: this.segment, offset: Number.isFinite(this.offset) ? this.offset : 0 };
  }

  /** Resolves after a full pass that began after this call: everything on disk now has been delivered. */
  caughtUp(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.passWaiters.push(resolve));
    this.rescan(); // a segment whose event was lost (inotify queue overflow) is found here
    this.kick();
    this.wake?.();
    return done;
  }

  /** Stops following; every watcher and descriptor is released when this resolves. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    const unwatched = this.unwatch();
    await this.running;
    await this.handle?.close();
    this.handle = undefined;
    for (const resolve of this.passWaiters.splice(0)) resolve();
    await unwatched;
  }

  private onEvent(name: string | null): void {
    if (name === null) this.rescan();
    else {
      const parsed = parseSegmentName(name);
      if (parsed !== undefined && !parsed.compressed && (this.segment === undefined || parsed.number > this.segment)) this.seen(parsed.number);
    }
    this.kick();
  }

  private seen(n: number): void {
    this.ahead.add(n);
    this.options.segments.noteSegment(n); // the symlink follows the newest as soon as it exists
  }

  private rescan(): void {
    let names: string[];
    try {
      names = readdirSync(this.options.segments.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const parsed = parseSegmentName(name);
      if (parsed === undefined || parsed.compressed || parsed.key !== this.options.segments.key) continue;
      if (this.segment === undefined || parsed.number > this.segment) this.seen(parsed.number);
    }
  }

  private kick(): void {
    if (this.closed) return;
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const waiters = this.passWaiters.splice(0);
      const before = this.bytes;
      try {
        await this.pass();
      } catch (err) {
        this.options.logger?.error({ err, key: this.options.segments.key }, 'following a log segment failed');
      }
      for (const resolve of waiters) resolve();
      // Output is still arriving: let it gather before the next pass, so a flood is read in a few
      // large reads instead of one wakeup per write of the writer (which competes with it for CPU).
      if (this.again && this.bytes > before && !this.closed && this.passWaiters.length === 0) await this.pause(COALESCE_MS);
    } while (this.again && !this.closed);
  }

  /** A one-shot wait that close() and caughtUp() cut short. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async pass(): Promise<void> {
    if (this.segment === undefined) {
      const first = this.nextAhead();
      if (first === undefined) return;
      await this.switchTo(first, 0);
    }
    while (!this.closed) {
      const next = this.nextAhead(); // before draining: see the header comment
      await this.drain();
      if (next === undefined || this.closed) return;
      await this.switchTo(next, 0);
    }
  }

  private nextAhead(): number | undefined {
    let next: number | undefined;
    for (const n of this.ahead) if ((this.segment === undefined || n > this.segment) && (next === undefined || n < next)) next = n;
    return next;
  }

  private async drain(): Promise<void> {
    const handle = await this.openCurrent();
    if (handle === undefined) return;
    while (!this.closed) {
      const { bytesRead } = await handle.read(this.buffer, 0, this.buffer.length, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      this.bytes += bytesRead;
      this.options.onData(this.buffer.subarray(0, bytesRead));
      // Grown after the consumer is done with it: the chunk it was handed stays valid for its call.
      if (bytesRead === this.buffer.length && this.buffer.length < MAX_READ_BYTES) this.buffer = Buffer.allocUnsafe(this.buffer.length * 2);
    }
  }

  private async openCurrent(): Promise<FileHandle | undefined> {
    if (this.handle !== undefined || this.segment === undefined) return this.handle;
    try {
      this.handle = await open(this.options.segments.path(this.segment), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return undefined; // not created yet (or removed by hand): the next event retries
    }
    if (this.closed) {
      await this.handle.close();
      this.handle = undefined;
      return undefined;
    }
    if (!Number.isFinite(this.offset)) this.offset = (await this.handle.stat()).size;
    return this.handle;
  }

  private async switchTo(n: number, offset: number): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
    for (const k of this.ahead) if (k <= n) this.ahead.delete(k);
    this.segment = n;
    this.offset = offset;
    this.options.segments.release(n);
  }
}
