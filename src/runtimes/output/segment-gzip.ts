/**
 * Compresses one finished segment to `<file>.gz` without blocking the event loop: node:zlib runs
 * on the libuv thread pool and the loop only moves 1 MiB chunks. The order makes a crash at any
 * point harmless: write `<file>.gz.partial`, fsync it, rename it to `.gz`, fsync the directory,
 * and only then remove the uncompressed file. A `.partial` left by a crash is deleted and the
 * segment compressed again by the next scan.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const PARTIAL_SUFFIX = '.gz.partial';

const CHUNK_BYTES = 1024 * 1024;

/** Resolves once `file` is replaced by `file.gz`; on failure or abort, `file` is left as it was. */
export async function gzipSegment(file: string, signal: AbortSignal): Promise<void> {
  const partial = `${file}${PARTIAL_SUFFIX}`;
  try {
    // flush: the descriptor is fsynced before it is closed, and the pipeline resolves after that.
    await pipeline(createReadStream(file, { highWaterMark: CHUNK_BYTES }), createGzip({ chunkSize: CHUNK_BYTES }), createWriteStream(partial, { flush: true }), { signal });
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  await rename(partial, `${file}.gz`);
  await syncDirectory(path.dirname(file));
  await unlink(file);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
