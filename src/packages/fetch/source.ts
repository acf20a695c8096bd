/**
 * Brings one package archive into the store's temporary space, from a local file or over HTTP(S),
 * hashing it on the way: the store only ever unpacks its own copy, so the bytes checked are the
 * bytes unpacked. The archive's sidecars (`<archive>.sha256`, `<archive>.sig`) are read when the
 * source does not carry a checksum or signature of its own (an index entry does).
 */
import { constants } from 'node:fs';
import { copyFile, readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { hsuError } from '../../errors.js';
import { parseChecksumText, sha256OfFile } from '../archive/checksum.js';
import { storeError } from '../io-errors.js';
import type { PackageLimits } from '../limits.js';
import { abortReason, downloadText, downloadToFile, isHttpUrl } from './http.js';

export interface ArchiveSource {
  /** `file:` or `http(s):` URL of the .tgz. */
  readonly location: URL;
  readonly sha256?: string | undefined;
  readonly signature?: string | undefined;
  readonly size?: number | undefined;
  /** What the repository says is inside; package.yaml must agree. */
  readonly name?: string | undefined;
  readonly version?: string | undefined;
}

export interface FetchOptions {
  readonly limits: Pick<PackageLimits, 'maxArchiveBytes' | 'maxIndexBytes' | 'idleTimeoutMs'>;
  readonly signal?: AbortSignal | undefined;
  readonly ca?: string | undefined;
  readonly onBytes?: ((received: number, total: number | undefined) => void) | undefined;
}

export interface FetchedArchive {
  readonly size: number;
  /**
   * The sha256 of the copy in the store. Known at once for a download (hashed on the way in);
   * for a local file it is computed on first call, so the caller may overlap it with unpacking.
   */
  readonly digest: () => Promise<string>;
  /** The checksum it must have (from the source or its sidecar), if any. */
  readonly expected_sha256: string | undefined;
  readonly signature: string | undefined;
}

export async function fetchArchive(source: ArchiveSource, dest: string, options: FetchOptions): Promise<FetchedArchive> {
  const { location } = source;
  const fetched = isHttpUrl(location) ? await downloadArchive(source, dest, options) : await copyArchive(source, dest, options);
  if (source.size !== undefined && fetched.size !== source.size) {
    const code = fetched.size < source.size ? 'PACKAGE_DOWNLOAD_TRUNCATED' : 'PACKAGE_CHECKSUM_MISMATCH';
    throw hsuError(code, `${location.href} is ${fetched.size} bytes, the repository says ${source.size}`, { url: location.href, received: fetched.size, expected: source.size });
  }
  const expected = source.sha256 ?? (await sidecar(location, '.sha256', options).then((text) => (text === undefined ? undefined : parseChecksumText(text, `${location.href}.sha256`))));
  const signature = source.signature ?? (await sidecar(location, '.sig', options))?.trim();
  return { ...fetched, expected_sha256: expected, signature };
}

async function downloadArchive(source: ArchiveSource, dest: string, options: FetchOptions): Promise<Pick<FetchedArchive, 'size' | 'digest'>> {
  const { sha256, size } = await downloadToFile(source.location, dest, {
    maxBytes: options.limits.maxArchiveBytes,
    idleTimeoutMs: options.limits.idleTimeoutMs,
    signal: options.signal,
    ca: options.ca,
    onBytes: (received, total) => options.onBytes?.(received, total ?? source.size),
  });
  return { size, digest: () => Promise.resolve(sha256) };
}

async function copyArchive(source: ArchiveSource, dest: string, options: FetchOptions): Promise<Pick<FetchedArchive, 'size' | 'digest'>> {
  const file = localPath(source.location);
  const limit = options.limits.maxArchiveBytes;
  const tooLarge = (size: number): Error => hsuError('PACKAGE_TOO_LARGE', `${file} is ${size} bytes, over the limit of ${limit}`, { file, size, limit });
  try {
    const info = await stat(file);
    if (!info.isFile()) throw hsuError('PACKAGE_NOT_FOUND', `${file} is not a file`, { file });
    if (info.size > limit) throw tooLarge(info.size);
    // The kernel copies (or clones) the file; the copy is what gets hashed and unpacked, so a
    // source changed meanwhile cannot slip unverified bytes in.
    await copyFile(file, dest, constants.COPYFILE_FICLONE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw hsuError('PACKAGE_NOT_FOUND', `no package archive at ${file}`, { file }, error);
    throw storeError(error, `copying ${file}`, { file });
  }
  const { size } = await stat(dest);
  if (size > limit) throw tooLarge(size);
  options.onBytes?.(size, size);
  let digest: Promise<string> | undefined;
  return {
    size,
    digest: () => {
      digest ??= sha256OfFile(dest, options.signal).then(
        (result) => result.sha256,
        (error: unknown) => Promise.reject(options.signal?.aborted === true ? abortReason(options.signal, source.location) : storeError(error, `hashing ${file}`, { file })),
      );
      return digest;
    },
  };
}

/** The text of `<archive><suffix>` when it exists. */
async function sidecar(location: URL, suffix: string, options: FetchOptions): Promise<string | undefined> {
  const url = new URL(`${location.href}${suffix}`);
  if (isHttpUrl(url)) {
    return downloadText(url, { maxBytes: options.limits.maxIndexBytes, idleTimeoutMs: options.limits.idleTimeoutMs, signal: options.signal, ca: options.ca, optional: true });
  }
  const file = localPath(url);
  try {
    const info = await stat(file);
    if (info.size > options.limits.maxIndexBytes) throw hsuError('PACKAGE_TOO_LARGE', `${file} is larger than ${options.limits.maxIndexBytes} bytes`, { file });
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw storeError(error, `reading ${file}`, { file });
  }
}

export function localPath(location: URL): string {
  if (location.protocol !== 'file:') throw hsuError('PACKAGE_REF_INVALID', `unsupported URL scheme ${location.protocol} in ${location.href} (file:, http: or https:)`, { url: location.href });
  return fileURLToPath(location);
}
