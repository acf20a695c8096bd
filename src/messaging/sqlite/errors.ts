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

/** A log file and how long an operation on it may wait for another connection's lock. */
export interface SqliteTarget {
  readonly file: string;
  readonly busyTimeoutMs: number;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function isBusy(err: unknown): boolean {
  const code = (err as { errcode?: unknown } | null)?.errcode;
  return typeof code === 'number' && ((code & 0xff) === SQLITE_BUSY || (code & 0xff) === SQLITE_LOCKED);
}

/**
 * Runs `fn`, turning SQLite failures into coded errors. A busy database is retried here rather
 * than by SQLite's busy handler (the connection's own timeout is 0): SQLite sleeps 1, 2, 5, 10,
 * 15, 20 ms... between attempts, so a checkpoint write that meets a stream of appends from another
 * process could stall its thread for 50 ms; this waits 50 µs, doubling up to 2 ms, until
 * `busyTimeoutMs` has passed. A failed attempt changed nothing (SQLite rolls a busy statement back),
 * so `fn` may run again.
 */
export function guarded<T>(operation: string, target: SqliteTarget, fn: () => T): T {
  let waited = 0;
  let delay = 0.05;
  for (;;) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err) || waited >= target.busyTimeoutMs) throw sqliteError(err, operation, target.file);
      Atomics.wait(sleeper, 0, 0, delay);
      waited += delay;
      delay = Math.min(delay * 2, 2);
    }
  }
}
