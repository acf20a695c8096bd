/**
 * sha256 checksums of archives: the hex form everywhere (index, sidecar files, receipts), and a
 * pass-through stream that hashes and counts bytes as they flow, so a download or copy is read once.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { hsuError } from '../../errors.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256(value: string): boolean {
  return SHA256_HEX.test(value);
}

/**
 * The digest in a `.sha256` sidecar: the first word, as `sha256sum` writes it (`<hex>  file`).
 * Upper-case hex is accepted and lowered.
 */
export function parseChecksumText(text: string, source: string): string {
  const word = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!isSha256(word)) throw hsuError('PACKAGE_CHECKSUM_MISMATCH', `${source} does not hold a sha256 checksum (64 hex digits)`, { source });
  return word;
}

export function assertChecksum(actual: string, expected: string | undefined, source: string): void {
  if (expected !== undefined && actual !== expected.toLowerCase()) {
    throw hsuError('PACKAGE_CHECKSUM_MISMATCH', `${source}: sha256 is ${actual}, expected ${expected.toLowerCase()}`, { source, actual, expected });
  }
}

/** Hashes and counts what passes; stops the stream with PACKAGE_TOO_LARGE past `maxBytes`. */
export class DigestTap extends Transform {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly source: string,
    private readonly onBytes?: (bytes: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      done(hsuError('PACKAGE_TOO_LARGE', `${this.source} is larger than the limit of ${this.maxBytes} bytes`, { source: this.source, limit: this.maxBytes }));
      return;
    }
    this.hash.update(chunk);
    this.onBytes?.(this.bytes);
    done(null, chunk);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** sha256 (hex) and size of a file, read once. */
export async function sha256OfFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, ...(signal === undefined ? {} : { signal }) })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
