/**
 * HTTP(S) downloads for packages and indexes, on node:http with no connection pool (agent: false,
 * so nothing stays open after a download). Bounded in size, in idle time (a stalled server) and by
 * the caller's signal; a body that ends before its Content-Length is a truncated download.
 */
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { hsuError, isHsuError } from '../../errors.js';
import type { HsuError } from '../../errors.js';
import { DigestTap } from '../archive/checksum.js';
import { storeError } from '../io-errors.js';

export interface HttpOptions {
  readonly maxBytes: number;
  readonly idleTimeoutMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Extra CA certificates (PEM) for https, e.g. a private repository's own CA. */
  readonly ca?: string | undefined;
  readonly onBytes?: ((received: number, total: number | undefined) => void) | undefined;
}

const MAX_REDIRECTS = 5;

export function isHttpUrl(url: URL): boolean {
  return url.protocol === 'http:' || url.protocol === 'https:';
}

/** Downloads `url` into `dest` (created or truncated), hashing as it goes. */
export async function downloadToFile(url: URL, dest: string, options: HttpOptions): Promise<{ sha256: string; size: number }> {
  const response = await open(url, options);
  const declared = contentLength(response);
  if (declared !== undefined && declared > options.maxBytes) {
    response.destroy();
    throw hsuError('PACKAGE_TOO_LARGE', `${url.href} is ${declared} bytes, over the limit of ${options.maxBytes}`, { url: url.href, size: declared, limit: options.maxBytes });
  }
  const tap = new DigestTap(options.maxBytes, url.href, (bytes) => options.onBytes?.(bytes, declared));
  try {
    await pipeline(response, tap, createWriteStream(dest));
  } catch (error) {
    throw bodyError(error, url, tap.bytes, declared, options.signal);
  }
  if (declared !== undefined && tap.bytes !== declared) throw truncated(url, tap.bytes, declared);
  return { sha256: tap.digest(), size: tap.bytes };
}

/** The body as text, or undefined for a 404 when `optional` (sidecar files, index probes). */
export async function downloadText(url: URL, options: HttpOptions & { optional?: boolean }): Promise<string | undefined> {
  let response: IncomingMessage;
  try {
    response = await open(url, options);
  } catch (error) {
    if (options.optional === true && isHsuError(error, 'PACKAGE_NOT_FOUND')) return undefined;
    throw error;
  }
  const declared = contentLength(response);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > options.maxBytes) {
        response.destroy();
        throw hsuError('PACKAGE_TOO_LARGE', `${url.href} is larger than the limit of ${options.maxBytes} bytes`, { url: url.href, limit: options.maxBytes });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw bodyError(error, url, size, declared, options.signal);
  }
  if (declared !== undefined && size !== declared) throw truncated(url, size, declared);
  return Buffer.concat(chunks).toString('utf8');
}

/** A 200 response for `url`, redirects followed; anything else is a coded error. */
async function open(url: URL, options: HttpOptions): Promise<IncomingMessage> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const response = await request(current, options);
    const status = response.statusCode ?? 0;
    if (status === 200) return response;
    response.resume();
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location !== undefined) {
      const next = new URL(location, current);
      if (!isHttpUrl(next)) throw hsuError('PACKAGE_DOWNLOAD_FAILED', `${current.href} redirects to ${next.href}, which is not http(s)`, { url: current.href });
      current = next;
      continue;
    }
    if (status === 404 || status === 410) throw hsuError('PACKAGE_NOT_FOUND', `${current.href} was not found (HTTP ${status})`, { url: current.href, status });
    throw hsuError('PACKAGE_DOWNLOAD_FAILED', `${current.href} answered HTTP ${status}`, { url: current.href, status });
  }
  throw hsuError('PACKAGE_DOWNLOAD_FAILED', `${url.href} redirects more than ${MAX_REDIRECTS} times`, { url: url.href });
}

function request(url: URL, options: HttpOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // getBuiltinModule, not ESM imports: see api/server.ts (an ESM import of node:http loads undici).
    const get = url.protocol === 'https:' ? process.getBuiltinModule('node:https').get : process.getBuiltinModule('node:http').get;
    let response: IncomingMessage | undefined;
    const tls = options.ca === undefined ? {} : { ca: options.ca };
    const req = get(url, { agent: false, signal: options.signal, timeout: options.idleTimeoutMs, ...tls, headers: { 'user-agent': 'hsu-package' } }, (res) => {
      response = res;
      resolve(res);
    });
    // The socket timeout is an idle timeout: it fires after idleTimeoutMs without a byte, also mid-body,
    // where the body stream must fail with this error rather than look merely cut.
    req.on('timeout', () => {
      const error = hsuError('PACKAGE_DOWNLOAD_TIMEOUT', `${url.href}: no data for ${options.idleTimeoutMs} ms`, { url: url.href, idle_timeout_ms: options.idleTimeoutMs });
      response?.destroy(error);
      req.destroy(error);
    });
    req.on('error', (error) => reject(requestError(error, url, options.signal)));
  });
}

function requestError(error: unknown, url: URL, signal: AbortSignal | undefined): HsuError {
  if (isHsuError(error)) return error;
  if (signal?.aborted === true) return abortReason(signal, url);
  return hsuError('PACKAGE_DOWNLOAD_FAILED', `cannot download ${url.href}: ${(error as Error).message}`, { url: url.href, errno: (error as NodeJS.ErrnoException).code }, error);
}

function bodyError(error: unknown, url: URL, received: number, declared: number | undefined, signal: AbortSignal | undefined): HsuError {
  if (isHsuError(error)) return error;
  if (signal?.aborted === true) return abortReason(signal, url);
  if ((error as { syscall?: string }).syscall !== undefined && (error as NodeJS.ErrnoException).code !== 'ECONNRESET') return storeError(error, `saving ${url.href}`, { url: url.href });
  return truncated(url, received, declared, error);
}

function truncated(url: URL, received: number, declared: number | undefined, cause?: unknown): HsuError {
  const of = declared === undefined ? '' : ` of ${declared}`;
  return hsuError('PACKAGE_DOWNLOAD_TRUNCATED', `${url.href}: the download ended after ${received}${of} bytes`, { url: url.href, received, expected: declared }, cause);
}

/** The caller's reason when it is a coded error (an install timeout), else PACKAGE_INSTALL_ABORTED. */
export function abortReason(signal: AbortSignal, url: URL): HsuError {
  const reason: unknown = signal.reason;
  return isHsuError(reason) ? reason : hsuError('PACKAGE_INSTALL_ABORTED', `download of ${url.href} was aborted`, { url: url.href });
}

function contentLength(response: IncomingMessage): number | undefined {
  const header = response.headers['content-length'];
  const value = header === undefined ? Number.NaN : Number(header);
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
