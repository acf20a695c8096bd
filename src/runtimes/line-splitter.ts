/**
 * Turns a byte stream into lines. Works on bytes, not strings: '\n' never occurs inside a UTF-8
 * multi-byte sequence, so a character split across chunks is reassembled before it is decoded.
 */

export const MAX_LINE_BYTES = 16 * 1024;

export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLineBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.pendingBytes === 0 && piece.length <= this.maxLineBytes) {
        this.emitLine(piece); // fast path: the whole line sits inside this chunk
      } else {
        this.append(piece);
        this.emitLine(this.take());
      }
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
  }

  /** Forgets a partial line (its chunk was skipped, so its start is not worth keeping). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Emits a final line that had no trailing newline (call when the stream ends). */
  flush(): void {
    if (this.pendingBytes > 0) this.emitLine(this.take());
  }

  // Keeps at most maxLineBytes buffered: a child writing without newlines cannot grow our memory.
  private append(piece: Buffer): void {
    // Copy: the chunk may be a slice of a pooled buffer that is reused once we return.
    this.pending.push(Buffer.from(piece));
    this.pendingBytes += piece.length;
    while (this.pendingBytes > this.maxLineBytes) {
      const all = this.take();
      let cut = this.maxLineBytes;
      // Step back to a character boundary (continuation bytes are 10xxxxxx) so pieces decode cleanly.
      while (cut > this.maxLineBytes - 4 && ((all[cut] ?? 0) & 0xc0) === 0x80) cut--;
      this.emitLine(all.subarray(0, cut), false);
      this.pending = [all.subarray(cut)];
      this.pendingBytes = all.length - cut;
    }
  }

  private take(): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  private emitLine(bytes: Buffer, complete = true): void {
    const end = complete && bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    this.emit(bytes.toString('utf8', 0, end));
  }
}
