/**
 * Unpacks a package .tgz into an empty directory with node-tar, every header first judged by
 * {@link EntryRules}; the first refused entry stops the unpack. Symbolic links are checked again on
 * disk once everything is written (a chain of links can leave the root where text says it stays).
 * The caller owns `dest` and removes it when this throws.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { Unpack } from 'tar';
import type { ReadEntry } from 'tar';
import { hsuError, isHsuError } from '../../errors.js';
import type { HsuError } from '../../errors.js';
import { isDiskFull, storeError } from '../io-errors.js';
import type { PackageLimits } from '../limits.js';
import { EntryRules } from './entry-rules.js';

export interface ExtractOptions {
  readonly limits: Pick<PackageLimits, 'maxEntries' | 'maxUnpackedBytes'>;
  /** Names the archive in messages (a file path or URL). */
  readonly source: string;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: ((read: number, total: number) => void) | undefined;
}

export interface ExtractResult {
  readonly entries: number;
  readonly bytes: number;
}

const READ_CHUNK = 1 << 20;
/** tar framing per entry (header, padding, long-name records) is far below this. */
const FRAMING_PER_ENTRY = 4096;

export async function extractArchive(archive: string, dest: string, options: ExtractOptions): Promise<ExtractResult> {
  const { size: total } = await stat(archive);
  const rules = new EntryRules(options.limits, options.source);
  const maxTarBytes = options.limits.maxUnpackedBytes + FRAMING_PER_ENTRY * (options.limits.maxEntries + 2);
  let failure: HsuError | undefined;
  const input = createReadStream(archive, { highWaterMark: READ_CHUNK });
  // Node's gunzip runs on the libuv thread pool, so inflating overlaps parsing and writing (node-tar
  // would inflate synchronously on this thread); the parser then sees a plain tar stream.
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const unpack = new Unpack({
    cwd: dest,
    strict: true,
    // As root, node-tar would otherwise chown every file to the uid/gid in the archive.
    preserveOwner: false,
    filter: (_path: string, entry: ReadEntry | unknown) => {
      if (failure !== undefined) return false;
      const header = entry as ReadEntry;
      const problem = rules.check({ path: header.path, type: header.type, size: header.size, linkpath: header.linkpath });
      if (problem !== undefined) {
        fail(problem);
        return false;
      }
      // No setuid/setgid/sticky bits, and the store can always read, clean and remove what it wrote.
      const mode = (header.mode ?? 0o644) & 0o777;
      header.mode = header.type === 'Directory' ? mode | 0o700 : mode | 0o600;
      return true;
    },
  });
  // Fed by hand rather than by pipe(): once stopped, no further chunk may reach the ended parser.
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    input.destroy();
    gunzip.destroy();
    // Often called from inside unpack.write() (the filter runs there): end the parser after it returns.
    queueMicrotask(() => unpack.end());
  };
  const fail = (error: HsuError): void => {
    failure ??= error;
    stop();
  };
  const onAbort = (): void => fail(hsuError('PACKAGE_INSTALL_ABORTED', `unpacking ${options.source} was aborted`, { source: options.source }));
  let read = 0;
  input.on('data', (chunk: Buffer | string) => {
    read += chunk.length;
    options.onProgress?.(read, total);
  });
  let inflated = 0;
  gunzip.on('data', (chunk: Buffer) => {
    if (stopped) return;
    inflated += chunk.length;
    if (inflated > maxTarBytes) {
      fail(hsuError('PACKAGE_TOO_LARGE', `${options.source} inflates to more than ${maxTarBytes} bytes`, { source: options.source, limit: maxTarBytes }));
      return;
    }
    if (!unpack.write(chunk)) gunzip.pause();
  });
  unpack.on('drain', () => gunzip.resume());
  gunzip.once('end', stop);
  try {
    await new Promise<void>((resolve) => {
      if (options.signal?.aborted === true) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      input.once('error', (error) => fail(storeError(error, `reading ${options.source}`)));
      gunzip.once('error', (error) => fail(hsuError('PACKAGE_ARCHIVE_INVALID', `${options.source} is not a valid .tgz: ${error.message}`, { source: options.source, tar_code: (error as NodeJS.ErrnoException).code }, error)));
      unpack.on('error', (error: unknown) => fail(unpackError(error, options.source)));
      // node-tar aborts on a broken archive and then emits no 'close'.
      unpack.once('abort', (error: unknown) => {
        fail(unpackError(error, options.source));
        resolve();
      });
      unpack.once('close', () => resolve());
      input.pipe(gunzip);
    });
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (failure !== undefined) throw failure;
  await checkLinksOnDisk(dest, rules.symlinkPaths, options.source);
  return rules.totals;
}

async function checkLinksOnDisk(root: string, links: readonly string[], source: string): Promise<void> {
  const realRoot = await realpath(root);
  for (const link of links) {
    let target: string;
    try {
      target = await realpath(path.join(root, link));
    } catch {
      throw hsuError('PACKAGE_ARCHIVE_UNSAFE', `${source}: symbolic link ${JSON.stringify(link)} points to nothing inside the package`, { source, entry: link });
    }
    if (target !== realRoot && !target.startsWith(`${realRoot}${path.sep}`)) {
      throw hsuError('PACKAGE_ARCHIVE_UNSAFE', `${source}: symbolic link ${JSON.stringify(link)} resolves outside the package`, { source, entry: link });
    }
  }
}

function unpackError(error: unknown, source: string): HsuError {
  if (isHsuError(error)) return error;
  if (isDiskFull(error)) return storeError(error, `unpacking ${source}`, { source });
  const err = error as Error & { code?: string; tarCode?: string; syscall?: string };
  if (err.syscall !== undefined) return storeError(error, `unpacking ${source}`, { source });
  if (err.code === 'TAR_SYMLINK_ERROR' || /symbolic link/i.test(err.message)) {
    return hsuError('PACKAGE_ARCHIVE_UNSAFE', `${source}: ${err.message}`, { source }, error);
  }
  if (typeof err.tarCode === 'string' || /zlib|gzip|header|unexpected end/i.test(err.message) || String(err.code).startsWith('Z_')) {
    return hsuError('PACKAGE_ARCHIVE_INVALID', `${source} is not a valid .tgz: ${err.message}`, { source, tar_code: err.tarCode ?? err.code }, error);
  }
  return storeError(error, `unpacking ${source}`, { source });
}
