// File-system failures worded once: a full disk is its own code, anything else names what failed.
import { hsuError, isHsuError } from '../errors.js';
import type { HsuError } from '../errors.js';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

export function isDiskFull(error: unknown): boolean {
  return DISK_FULL.has(String((error as NodeJS.ErrnoException | undefined)?.code));
}

/** Keeps coded errors; turns an fs error into PACKAGE_DISK_FULL or PACKAGE_STORE_FAILED. */
export function storeError(error: unknown, what: string, context: Record<string, unknown> = {}): HsuError {
  if (isHsuError(error)) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  if (isDiskFull(error)) return hsuError('PACKAGE_DISK_FULL', `no space left on the device while ${what}`, { ...context, errno }, error);
  return hsuError('PACKAGE_STORE_FAILED', `${what} failed: ${(error as Error).message}`, { ...context, errno }, error);
}
