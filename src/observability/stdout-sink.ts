/**
 * Where the master's log lines go: its stdout, through a bounded backlog. A reader that stalls (a
 * paused pager, `hsu run | sleep`) or goes away (EPIPE) must never block the supervisor's loop,
 * nor keep it alive after shutdown: past the bound, lines are dropped and counted, and at exit
 * the backlog gets a bounded moment to drain, then what is left is counted too. (pino's own
 * sonic-boom flushes synchronously at exit and retries EAGAIN forever on a stalled pipe.)
 */
import type { Writable } from 'node:stream';

export interface SinkLoss {
  readonly dropped_lines: number;
  readonly dropped_bytes: number;
}

export class StdoutSink {
  private droppedLines = 0;
  private droppedBytes = 0;
  private broken = false;

  constructor(
    private readonly stream: Writable = process.stdout,
    private readonly format: (line: string) => string = (line) => line,
    private readonly maxBacklogBytes = 16 * 1024 * 1024,
  ) {
    // EPIPE and friends: the reader went away; from now on every line is counted as dropped.
    stream.on('error', () => {
      this.broken = true;
    });
  }

  /** pino calls this with one serialized record (JSON and a newline). */
  write(line: string): boolean {
    if (this.broken || this.stream.writableLength > this.maxBacklogBytes) {
      this.droppedLines += 1;
      this.droppedBytes += Buffer.byteLength(line);
      return true;
    }
    this.stream.write(this.format(line));
    return true;
  }

  get loss(): SinkLoss {
    return { dropped_lines: this.droppedLines, dropped_bytes: this.droppedBytes };
  }

  /** Waits at most `ms` for the backlog to reach the reader; counts what did not as dropped. */
  async drain(ms: number): Promise<SinkLoss> {
    if (!this.broken && this.stream.writableLength > 0) {
      let timer: NodeJS.Timeout | undefined;
      let onDrain: (() => void) | undefined;
      await new Promise<void>((resolve) => {
        onDrain = resolve;
        this.stream.once('drain', resolve);
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      if (onDrain !== undefined) this.stream.off('drain', onDrain);
    }
    const left = this.broken ? 0 : this.stream.writableLength;
    if (left > 0) {
      this.droppedBytes += left;
      this.droppedLines += 1; // at least one; the exact count of a partly written backlog is unknowable
    }
    return this.loss;
  }
}
