/**
 * `tail -F` for one log file: new lines as they are appended, surviving rotation. It polls (a
 * stat every interval): inotify on a file follows the inode, not the name, and misses the new
 * file a rotation puts in its place. A changed inode means "rotated": the old file is read to its
 * end, then the new one from its start. A file that shrank was truncated in place (copytruncate):
 * reading starts over at 0. Each tick reads a bounded amount, so a flood cannot stall the loop.
 */
import type { FileHandle } from 'node:fs/promises';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { openLogFile } from './files.js';

const DEFAULT_INTERVAL_MS = 250;
const MAX_READ_PER_TICK = 1024 * 1024;
/** A "line" without a newline longer than this is delivered in pieces, not buffered forever. */
const MAX_PARTIAL_LINE = 64 * 1024;

export interface FollowStart {
  /** Byte offset to continue from (the size a tail saw), and the inode it saw there. */
  readonly position: number;
  readonly ino: number;
}

export interface FollowOptions {
  readonly intervalMs?: number;
  /** A read failed (not "file missing", which just waits): the follower stops after reporting it. */
  readonly onError?: (error: Error) => void;
}

export class LogFollower {
  private handle: FileHandle | undefined;
  private ino = 0;
  private position: number;
  private decoder = new StringDecoder('utf8');
  private partial = '';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    readonly file: string,
    start: FollowStart,
    private readonly onLines: (lines: string[]) => void,
    private readonly options: FollowOptions = {},
  ) {
    this.position = start.position;
    this.ino = start.ino;
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops polling and closes the file; resolves once no read is in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.closeHandle();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().then(
        (more) => this.schedule(more ? 0 : (this.options.intervalMs ?? DEFAULT_INTERVAL_MS)),
        (error: unknown) => {
          this.stopped = true;
          this.options.onError?.(error as Error);
        },
      );
    }, ms);
  }

  /** One poll; true when there is more to read right away. */
  private async tick(): Promise<boolean> {
    if (this.handle === undefined && !(await this.openCurrent())) return false;
    const handle = this.handle!;
    const size = (await handle.stat()).size;
    if (size < this.position) this.restartAt(0); // truncated in place
    if (size > this.position) return this.readFrom(handle, size);
    const now = await statQuietly(this.file);
    if (now !== undefined && now.ino !== this.ino) {
      // Rotated, and the old file is read to its end: switch to the new one.
      this.flushPartial();
      await this.closeHandle();
      this.position = 0;
      return this.openCurrent();
    }
    return false;
  }

  private async readFrom(handle: FileHandle, size: number): Promise<boolean> {
    const length = Math.min(size - this.position, MAX_READ_PER_TICK);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, this.position);
    this.position += bytesRead;
    this.deliver(this.decoder.write(buffer.subarray(0, bytesRead)));
    return this.position < size;
  }

  private deliver(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    while (this.partial.length > MAX_PARTIAL_LINE) {
      parts.push(this.partial.slice(0, MAX_PARTIAL_LINE));
      this.partial = this.partial.slice(MAX_PARTIAL_LINE);
    }
    if (parts.length > 0 && !this.stopped) this.onLines(parts);
  }

  private flushPartial(): void {
    const rest = this.partial + this.decoder.end();
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
    if (rest !== '' && !this.stopped) this.onLines([rest]);
  }

  private restartAt(position: number): void {
    this.position = position;
    this.partial = '';
    this.decoder = new StringDecoder('utf8');
  }

  /** Opens the file now at the path; false while there is none. A different inode starts at 0. */
  private async openCurrent(): Promise<boolean> {
    const handle = await openLogFile(this.file);
    if (handle === undefined) return false;
    if (this.stopped) {
      await handle.close();
      return false;
    }
    const ino = (await handle.stat()).ino;
    if (ino !== this.ino) this.restartAt(0);
    this.handle = handle;
    this.ino = ino;
    return true;
  }

  private async closeHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}

/** The inode the name stands for now: through the master's link to the newest segment (what is opened is checked by openLogFile). */
async function statQuietly(file: string): Promise<{ ino: number } | undefined> {
  try {
    return await stat(file);
  } catch {
    return undefined;
  }
}
