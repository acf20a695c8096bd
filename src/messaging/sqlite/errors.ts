/**
 * SQLite failures as coded errors. node:sqlite reports them as `ERR_SQLITE_ERROR` with the
 * (possibly extended) result code in `errcode`; the primary code is its low byte.
 */
import { hsuError, isHsuError, type ErrorCodeKey, type HsuError } from '../../errors.js';

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_IOERR = 10;
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_NOTADB = 26;
/** SQLITE_IOERR_WRITE / _FSYNC etc. on a full tmpfs are reported as I/O errors whose errno is ENOSPC. */
const ENOSPC_HINT = /disk is full|no space|database or disk is full/i;

function keyFor(errcode: number, message: string): ErrorCodeKey {
  switch (errcode & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return 'MESSAGE_LOG_BUSY';
    case SQLITE_FULL:
      return 'MESSAGE_LOG_FULL';
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return 'MESSAGE_LOG_CORRUPT';
    case SQLITE_IOERR:
      return ENOSPC_HINT.test(message) ? 'MESSAGE_LOG_FULL' : 'MESSAGE_LOG_IO';
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    default:
      return 'MESSAGE_LOG_IO';
  }
}

/** Wraps a node:sqlite error (anything else passes through unchanged if already coded). */
export function sqliteError(err: unknown, operation: string, file: string): HsuError {
  if (isHsuError(err)) return err;
  const e = err as { errcode?: unknown; errstr?: unknown; message?: unknown };
  const errcode = typeof e.errcode === 'number' ? e.errcode : -1;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const key = errcode === -1 ? 'MESSAGE_LOG_IO' : keyFor(errcode, message);
  return hsuError(key, `message log ${file}: ${operation} failed: ${message}`, { file, operation, sqlite_code: errcode, sqlite_error: e.errstr ?? null }, err);
}

/** Runs `fn`, turning SQLite failures into coded errors. */
export function guarded<T>(operation: string, file: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw sqliteError(err, operation, file);
  }
}
