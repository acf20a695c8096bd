/**
 * Puts an ISO-8601 time (`2026-12-01T07:04:05.123Z `) before every line of a byte stream. The
 * state survives chunk boundaries, so a line that arrives in pieces gets one stamp, at its first
 * byte. One clock reading per chunk: a chunk arrives at one instant.
 */

const NL = 0x0a;

export class LineStamper {
  private atLineStart = true;

  constructor(private readonly now: () => string = () => new Date().toISOString()) {}

  /** The last byte seen was not a newline. */
  get midLine(): boolean {
    return !this.atLineStart;
  }

  stamp(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    const prefix = Buffer.from(`${this.now()} `);
    const parts: Buffer[] = [];
    let start = 0;
    while (start < chunk.length) {
      if (this.atLineStart) parts.push(prefix);
      const nl = chunk.indexOf(NL, start);
      const end = nl === -1 ? chunk.length : nl + 1;
      parts.push(chunk.subarray(start, end));
      this.atLineStart = nl !== -1;
      start = end;
    }
    return Buffer.concat(parts);
  }

  /** The source ended inside a line: the newline that closes it, so the next source's first line has its own stamp. */
  endLine(): Buffer | undefined {
    if (this.atLineStart) return undefined;
    this.atLineStart = true;
    return Buffer.from('\n');
  }
}
