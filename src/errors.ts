/**
 * The one error catalogue. Every error hsu raises on purpose carries a stable `code` from this
 * table; tests and callers match codes, never message text. Errors cross thread and process
 * boundaries as {@link SerializedError} and are rebuilt on the other side by
 * {@link deserializeError}: a catalogue code comes back as an {@link HsuError} with its status,
 * context, remote stack and (bounded) cause chain, so a caller cannot tell where the error arose.
 */
import { CLUSTER_ERROR_CODES } from './cluster/error-codes.js';
import { MESH_ERROR_CODES } from './mesh/error-codes.js';
import { PACKAGES_ERROR_CODES } from './packages/error-codes.js';

import { MESSAGING_ERROR_CODES } from './messaging/error-codes.js';
import { OS_ERROR_CODES } from './os/error-codes.js';
import { API_ERROR_CODES } from './api/error-codes.js';
import { DX_ERROR_CODES } from './scaffold/error-codes.js';
import { OBSERVABILITY_ERROR_CODES } from './observability/error-codes.js';

const CORE_ERROR_CODES = {
  // config
  CONFIG_INVALID: { status: 400, summary: 'configuration is invalid' },
  CONFIG_NOT_FOUND: { status: 404, summary: 'configuration file not found' },
  // master / worker table
  WORKER_NOT_FOUND: { status: 404, summary: 'no worker with this id' },
  WORKER_EXISTS: { status: 409, summary: 'a worker with this id already exists' },
  WORKER_ID_INVALID: { status: 400, summary: 'worker id must be 1-64 of [A-Za-z0-9_-]' },
  WORKER_RUNNING: { status: 409, summary: 'worker must be stopped first' },
  MASTER_SHUT_DOWN: { status: 409, summary: 'master is shutting down' },
  STATE_DIR_IN_USE: { status: 409, summary: 'another live master owns this state directory' },
  STATE_DIR_UNUSABLE: { status: 500, summary: 'the state directory cannot be written' },
  RUNTIME_NOT_FOUND: { status: 400, summary: 'no runtime accepts this worker config' },
  RUNTIME_EXISTS: { status: 409, summary: 'a runtime of this kind is already registered' },
  PROBE_NOT_FOUND: { status: 400, summary: 'no health probe of this type is registered' },
  PROBE_EXISTS: { status: 409, summary: 'a health probe of this type is already registered' },
  // lifecycle
  ILLEGAL_TRANSITION: { status: 409, summary: 'operation not allowed in the current state' },
  INVARIANT: { status: 500, summary: 'an internal invariant of the lifecycle was broken' },
  START_TIMEOUT: { status: 504, summary: 'worker did not start in time' },
  STOP_TIMEOUT: { status: 504, summary: 'worker did not stop in time' },
  START_FAILED: { status: 500, summary: 'worker failed to start' },
  START_CANCELLED: { status: 409, summary: 'start was cancelled by a stop' },
  WORKER_CRASHED: { status: 500, summary: 'worker ended unexpectedly' },
  HEALTH_CHECK_FAILED: { status: 503, summary: 'health check failed' },
  LIMIT_EXCEEDED: { status: 503, summary: 'worker exceeded a resource limit' },
  STOP_NOT_ALLOWED: { status: 409, summary: 'this worker may not be stopped by the master' },
  DEPENDENCY_FAILED: { status: 424, summary: 'a worker this one depends on is not up' },
  // process runtime
  EXECUTABLE_NOT_FOUND: { status: 400, summary: 'executable not found' },
  EXECUTABLE_NOT_EXECUTABLE: { status: 400, summary: 'file is not executable' },
  WORKING_DIRECTORY_NOT_FOUND: { status: 400, summary: 'working directory not found' },
  SPAWN_FAILED: { status: 500, summary: 'process could not be spawned' },
  PORT_IN_USE: { status: 409, summary: "an integrated worker's fixed port is held by another process" },
  LOG_DIR_UNUSABLE: { status: 500, summary: 'the worker log directory cannot be written' },
  // modules
  MODULE_FACTORY_NOT_FOUND: { status: 400, summary: 'no native module factory registered under this name' },
  MODULE_FACTORY_EXISTS: { status: 409, summary: 'a native module factory with this name is already registered' },
  MODULE_FILE_NOT_FOUND: { status: 400, summary: 'plugin module file not found' },
  MODULE_LOAD_FAILED: { status: 400, summary: 'plugin module could not be imported' },
  MODULE_EXPORT_NOT_FOUND: { status: 400, summary: 'plugin module has no such export' },
  MODULE_INVALID: { status: 400, summary: 'object is not a valid worker module' },
  MODULE_FACTORY_THREW: { status: 500, summary: 'module factory threw' },
  MODULE_INIT_FAILED: { status: 500, summary: 'module initialize() failed' },
  MODULE_FATAL: { status: 500, summary: 'module reported a fatal error' },
  MODULE_UNCAUGHT: { status: 500, summary: 'uncaught exception in module' },
  MODULE_OUT_OF_MEMORY: { status: 500, summary: 'module exceeded its memory limit' },
  MODULE_UNSUPPORTED_ISOLATION: { status: 400, summary: 'module cannot run with this isolation' },
  PROTOCOL_VERSION: { status: 500, summary: 'control protocol version mismatch' },
  // calls
  ACTION_NOT_FOUND: { status: 404, summary: 'module has no such action' },
  CALL_TIMEOUT: { status: 504, summary: 'call timed out' },
  CALL_ABORTED: { status: 499, summary: 'call was aborted' },
  CALL_NOT_RUNNING: { status: 503, summary: 'worker is not running' },
  CALL_PAYLOAD: { status: 400, summary: 'payload cannot cross this boundary' },
  CALL_UNSUPPORTED: { status: 400, summary: 'worker does not accept calls' },
  CALL_INTERRUPTED: { status: 503, summary: 'worker ended while the call was in flight' },
  // anything thrown by user code that has no code of its own
  UNKNOWN: { status: 500, summary: 'unexpected error' },
} as const;

/** Every subsystem's codes, merged; keys are unique across the project. */
export const ErrorCodes = {
  ...CORE_ERROR_CODES,
  ...OS_ERROR_CODES,
  ...MESH_ERROR_CODES,
  ...MESSAGING_ERROR_CODES,
  ...PACKAGES_ERROR_CODES,
  ...API_ERROR_CODES,
  ...CLUSTER_ERROR_CODES,
  ...DX_ERROR_CODES,
  ...OBSERVABILITY_ERROR_CODES,
} as const satisfies Record<string, { readonly status: number; readonly summary: string }>;

export type ErrorCodeKey = keyof typeof ErrorCodes;
export type ErrorCode = `HSU_ERR_${ErrorCodeKey}`;

const PREFIX = 'HSU_ERR_';
/** A cause chain is carried this deep across a boundary; deeper links are cut, saying so. */
const MAX_CAUSE_DEPTH = 4;

export interface SerializedError {
  code: string;
  message: string;
  name?: string;
  stack?: string;
  status?: number;
  context?: Record<string, unknown>;
  cause?: SerializedError;
}

export interface HsuErrorOptions {
  readonly cause?: unknown;
  readonly context?: Record<string, unknown>;
}

export class HsuError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly context: Record<string, unknown>;

  constructor(key: ErrorCodeKey, message?: string, options: HsuErrorOptions = {}) {
    super(message ?? ErrorCodes[key].summary, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HsuError';
    this.code = `${PREFIX}${key}`;
    this.status = ErrorCodes[key].status;
    this.context = options.context ?? {};
  }

  toJSON(): SerializedError {
    return serializeError(this);
  }
}

/** Shorthand used across the code base: `hsuError('WORKER_NOT_FOUND', ..., {worker_id})`. */
export function hsuError(key: ErrorCodeKey, message?: string, context?: Record<string, unknown>, cause?: unknown): HsuError {
  return new HsuError(key, message, { context: context ?? {}, cause });
}

/** The catalogue key of a code string, or undefined for codes hsu does not own (E_..., ENOENT). */
export function catalogueKey(code: unknown): ErrorCodeKey | undefined {
  if (typeof code !== 'string' || !code.startsWith(PREFIX)) return undefined;
  const key = code.slice(PREFIX.length);
  return Object.hasOwn(ErrorCodes, key) ? (key as ErrorCodeKey) : undefined;
}

/** True for any error with an hsu code, including ones rebuilt from another realm. */
export function isHsuError(err: unknown, key?: ErrorCodeKey): err is HsuError {
  if (typeof err !== 'object' || err === null) return false;
  const found = catalogueKey((err as { code?: unknown }).code);
  return found !== undefined && (key === undefined || found === key);
}

/** The HTTP status an error maps to: its catalogue entry's, or 500 for anything else. */
export function statusOf(err: unknown): number {
  const key = catalogueKey((err as { code?: unknown } | null)?.code);
  return key === undefined ? 500 : ErrorCodes[key].status;
}

export function serializeError(err: unknown, depth = 0): SerializedError {
  if (!(err instanceof Error)) {
    return { code: `${PREFIX}UNKNOWN`, message: typeof err === 'string' ? err : safeString(err), name: 'Error' };
  }
  const anyErr = err as Error & { code?: unknown; context?: unknown; status?: unknown };
  const out: SerializedError = {
    code: typeof anyErr.code === 'string' ? anyErr.code : `${PREFIX}UNKNOWN`,
    message: err.message,
    name: err.name,
  };
  if (err.stack !== undefined) out.stack = err.stack;
  const key = catalogueKey(anyErr.code);
  if (key !== undefined) out.status = ErrorCodes[key].status;
  else if (typeof anyErr.status === 'number') out.status = anyErr.status;
  if (typeof anyErr.context === 'object' && anyErr.context !== null) {
    out.context = cloneableContext(anyErr.context as Record<string, unknown>);
  }
  if (err.cause !== undefined) {
    out.cause =
      depth + 1 >= MAX_CAUSE_DEPTH
        ? { code: `${PREFIX}UNKNOWN`, message: '[cause chain cut: too deep]', name: 'Error' }
        : serializeError(err.cause, depth + 1);
  }
  return out;
}

export type RebuiltError = Error & { code: string; context: Record<string, unknown>; status?: number };

/**
 * Rebuilds an error from another realm. Catalogue codes come back as HsuError (instanceof works,
 * status is right); other codes (a module's own E_... codes) as plain Errors that keep their code.
 */
export function deserializeError(data: SerializedError, depth = 0): RebuiltError {
  const cause = data.cause !== undefined && depth < MAX_CAUSE_DEPTH ? deserializeError(data.cause, depth + 1) : undefined;
  const key = catalogueKey(data.code);
  let err: RebuiltError;
  if (key !== undefined) {
    err = new HsuError(key, data.message, { context: data.context ?? {}, cause });
  } else {
    err = new Error(data.message, cause === undefined ? undefined : { cause }) as RebuiltError;
    err.code = data.code;
    err.context = data.context ?? {};
    if (data.status !== undefined) err.status = data.status;
    err.name = data.name ?? 'Error';
  }
  if (data.stack !== undefined) err.stack = data.stack;
  return err;
}

/**
 * Serialized errors cross threads and processes by structured clone: a context holding a function
 * or a socket would make the report itself fail. Such values are replaced by a description.
 */
function cloneableContext(context: Record<string, unknown>): Record<string, unknown> {
  try {
    structuredClone(context);
    return context;
  } catch {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(context)) {
      try {
        structuredClone(value);
        out[key] = value;
      } catch {
        out[key] = `[not cloneable: ${typeof value === 'function' ? 'function' : Object.prototype.toString.call(value)}]`;
      }
    }
    return out;
  }
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
