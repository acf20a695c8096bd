/**
 * Copies one output stream into the master log, line by line, within the worker's budget, and
 * accounts for every line exactly: each line is either copied or counted as suppressed, so
 * copied + suppressed is what the worker wrote. Under a flood, whole chunks are only scanned for
 * newlines (memchr speed) instead of being split and decoded.
 */
import { LineSplitter } from './line-splitter.js';
import type { OutputBudget } from './output-budget.js';

export interface CopyCounts {
  /** Lines the worker wrote (a final line without a newline counts once the stream ends). */
  lines: number;
  copied_lines: number;
  suppressed_lines: number;
  suppressed_bytes: number;
  /** Bytes of over-long lines that were cut from the copy (the file has them). */
  truncated_bytes: number;
}

export function emptyCounts(): CopyCounts {
  return { lines: 0, copied_lines: 0, suppressed_lines: 0, suppressed_bytes: 0, truncated_bytes: 0 };
}

export class LineCopier {
  /** Suppressed since the last report. */
  private unreportedLines = 0;
  private unreportedBytes = 0;
  private suppressing = false;
  /** The last chunk ended inside a line. */
  private midLine = false;
  private readonly splitter: LineSplitter;

  constructor(
    private readonly budget: OutputBudget,
    /** Shared by every instance of the worker: the totals in diagnostics. */
    readonly counts: CopyCounts,
    private readonly deliver: (line: string) => void,
    private readonly report: (lines: number, bytes: number) => void,
  ) {
    this.splitter = new LineSplitter((line, bytes, truncated) => this.onLine(line, bytes, truncated));
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (!this.suppressing && this.budget.exhausted()) {
      // The line in progress is suppressed too; its newline (counted below) makes it one line.
      this.suppress(0, this.splitter.discard());
      this.suppressing = true;
    }
    let body = chunk;
    if (this.suppressing && this.budget.canResume()) {
      this.suppressing = false;
      if (this.midLine) {
        // The chunk starts inside a suppressed line: its tail up to the newline is suppressed too.
        const nl = body.indexOf(0x0a);
        if (nl === -1) {
          this.suppressing = true;
          this.suppress(0, body.length);
          return;
        }
        this.suppress(1, nl + 1);
        this.counts.lines += 1;
        body = body.subarray(nl + 1);
      }
      this.flushReport();
    }
    this.midLine = chunk[chunk.length - 1] !== 0x0a;
    if (this.suppressing) {
      const newlines = countNewlines(body);
      this.counts.lines += newlines;
      this.suppress(newlines, body.length);
      return;
    }
    this.splitter.push(body);
  }

  /** The stream ended: deliver or count a final line without a newline, and report what was suppressed. */
  finish(): void {
    if (this.suppressing) {
      if (this.midLine) {
        this.counts.lines += 1;
        this.suppress(1, 0);
      }
      this.splitter.discard();
    } else {
      this.splitter.flush();
    }
    this.midLine = false;
    this.flushReport();
  }

  /** Tells the master log how much was suppressed (after a stretch of suppression, and at the end). */
  flushReport(): void {
    if (this.unreportedLines === 0 && this.unreportedBytes === 0) return;
    const lines = this.unreportedLines;
    const bytes = this.unreportedBytes;
    this.unreportedLines = 0;
    this.unreportedBytes = 0;
    this.report(lines, bytes);
  }

  private onLine(line: string, bytes: number, truncated: number): void {
    this.counts.lines += 1;
    const copiedBytes = bytes - truncated;
    if (this.budget.take(copiedBytes)) {
      this.counts.copied_lines += 1;
      this.counts.truncated_bytes += truncated;
      this.deliver(truncated > 0 ? `${line}… [${truncated} more bytes in the log file]` : line);
    } else {
      this.suppress(1, bytes);
    }
  }

  private suppress(lines: number, bytes: number): void {
    this.counts.suppressed_lines += lines;
    this.counts.suppressed_bytes += bytes;
    this.unreportedLines += lines;
    this.unreportedBytes += bytes;
  }
}

function countNewlines(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) n++;
  return n;
}
