/**
 * Errors as the API speaks them: `{ code, message, details }` with the status of the code's
 * catalogue entry. Only coded errors say what went wrong; anything else is an internal error whose
 * details stay in the master log.
 */
import type { Logger } from 'pino';
import { isHsuError, statusOf } from '../errors.js';
import { json, type Headers, type Reply } from './http/reply.js';
import type { ErrorBody } from './schemas.js';

export interface ErrorReply {
  readonly status: number;
  readonly body: ErrorBody;
}

export function errorReply(error: unknown, logger?: Logger): ErrorReply {
  if (isHsuError(error) || (typeof (error as { code?: unknown } | null)?.code === 'string' && String((error as { code: string }).code).startsWith('HSU_ERR_'))) {
    const e = error as { code: string; message: string; context?: Record<string, unknown> };
    return { status: statusOf(error), body: { code: e.code, message: e.message, details: jsonSafe(e.context ?? {}) } };
  }
  logger?.error({ err: error }, 'control API: unexpected error');
  return { status: 500, body: { code: 'HSU_ERR_UNKNOWN', message: 'internal error (see the master log)', details: {} } };
}

/** The error as a reply on the wire. */
export function errorResponse(error: unknown, logger?: Logger, headers: Headers = {}): Reply {
  const { status, body } = errorReply(error, logger);
  return json(body, status, headers);
}

/** Contexts are plain data by convention; anything that is not (a cycle, a bigint) is described instead of failing the reply. */
function jsonSafe(context: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(context)) as Record<string, unknown>;
  } catch {
    return Object.fromEntries(Object.keys(context).map((key) => [key, '[not serializable]']));
  }
}
