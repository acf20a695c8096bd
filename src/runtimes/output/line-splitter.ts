/**
 * Turns a byte stream into lines. Works on bytes, not strings: '\n' never occurs inside a UTF-8
 * multi-byte sequence, so a character split across chunks is reassembled before it is decoded.
 * A line longer than `maxLineBytes` is delivered once, cut at that length; the rest of it, up to
 * its newline, is skipped and counted, so a child writing without newlines cannot grow our
 * memory or flood the master log.
 */

export const MAX_LINE_BYTES = 16 * 1024;

/** `bytes` is the whole line's length (with its newline), `truncated` how much of it was not delivered. */
export type LineHandler = (line: string, bytes: number, truncated: number) => void;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside an over-long line whose head was delivered: skip up to its newline. */
  private skipping = false;
  private skippedBytes = 0;
  private headBytes = 0;
  private headText = '';

  constructor(
    private readonly emit: LineHandler,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  /** Bytes of the line in progress (not yet delivered). */
  get partialBytes(): number {
    return this.skipping ? this.headBytes + this.skippedBytes : this.pendingBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.endSkip(piece.length + 1);
      } else if (this.pendingBytes === 0 && piece.length <= this.maxLineBytes) {
        this.emitLine(piece, piece.length + 1, 0); // fast path: the whole line sits inside this chunk
      } else {
        this.append(piece);
        if (this.skipping) this.endSkip(1);
        else {
          const line = this.take();
          this.emitLine(line, line.length + 1, 0);
        }
      }
    }
    if (start < chunk.length) {
      if (this.skipping) this.skippedBytes += chunk.length - start;
      else this.append(chunk.subarray(start));
    }
  }

  /** Forgets the line in progress (its rest is being counted elsewhere); returns its bytes so far. */
  discard(): number {
    const bytes = this.partialBytes;
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = false;
    this.skippedBytes = 0;
    this.headBytes = 0;
    this.headText = '';
    return bytes;
  }

  /** Emits a final line that had no trailing newline (call when the stream ends). */
  flush(): void {
    if (this.skipping) this.endSkip(0);
    else if (this.pendingBytes > 0) {
      const line = this.take();
      this.emitLine(line, line.length, 0);
    }
  }

  private append(piece: Buffer): void {
    // Copy: the chunk may be a slice of a pooled buffer that is reused once we return.
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
    if (this.pendingBytes <= this.maxLineBytes) return;
    const all = this.take();
    let cut = this.maxLineBytes;
    // Step back to a character boundary (continuation bytes are 10xxxxxx) so the head decodes cleanly.
    while (cut > this.maxLineBytes - 4 && ((all[cut] ?? 0) & 0xc0) === 0x80) cut--;
    this.skipping = true;
    this.headBytes = cut;
    this.skippedBytes = all.length - cut;
    this.headText = all.toString('utf8', 0, cut);
  }

  

  private endSkip(tailBytes: number): void {
    const total = this.headBytes + this.skippedBytes + tailBytes;
    const truncated = this.skippedBytes + Math.max(0, tailBytes - 1);
    const head = this.headText;
    this.skipping = false;
    this.skippedBytes = 0;
    this.headBytes = 0;
    this.headText = '';
    this.emit(head, total, truncated);
  }

  private take(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  private emitLine(bytes: Buffer, total: number, truncated: number): void {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    this.emit(bytes.toString('utf8', 0, end), total, truncated);
  }
}
