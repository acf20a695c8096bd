/**
 * How a failure is judged: does it count against the instance (breaker), and may the call run
 * again on another instance (retry)? Decided by code, so it works for errors rebuilt from another
 * thread, process or host.
 */
import { ErrorCodes } from '../../errors.js';

/** Never reached a replica: retried for idempotent calls whatever `retry.on` says. */
// Not answered by a replica, for a reason that is not the replica's: an idempotent call may run
// again elsewhere whatever retry.on says (a master gone or NATS lost under a remote call included;
// the cluster fails those fast instead of waiting out the deadline).
const UNDELIVERED = new Set(['HSU_ERR_CALL_NOT_RUNNING', 'HSU_ERR_CLUSTER_NODE_UNREACHABLE', 'HSU_ERR_CLUSTER_UNAVAILABLE']);

export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function contextOf(error: unknown): Record<string, unknown> {
  const context = typeof error === 'object' && error !== null ? (error as { context?: unknown }).context : undefined;
  return typeof context === 'object' && context !== null ? (context as Record<string, unknown>) : {};
}

function statusOf(code: string): number | undefined {
  if (!code.startsWith('HSU_ERR_')) return undefined;
  const entry = (ErrorCodes as Record<string, { status: number } | undefined>)[code.slice('HSU_ERR_'.length)];
  return entry?.status;
}

/**
 * Counts against the instance: infrastructure failures, timeouts and errors without an hsu code
 * (an action that threw). Not: the caller's own abort, or hsu errors that say the request was bad
 * (status < 500): a replica that rejects bad input is working.
 */
export function countsAgainstInstance(error: unknown): boolean {
  const code = codeOf(error);
  if (code === undefined) return true;
  if (code === 'HSU_ERR_CALL_ABORTED') return false;
  const status = statusOf(code);
  return status === undefined || status >= 500;
}

/**
 * May run again on another instance. Only idempotent calls are ever retried (the router's fast
 * path hands other calls' promises back untouched); among their failures: a call that never
 * reached a replica, an instance-level open breaker (refused before sending), and `codes`, where a
 * timeout counts only if it was the attempt's (the caller's own deadline ends the call).
 */
export function isRetryable(error: unknown, idempotent: boolean, codes: ReadonlySet<string>): boolean {
  if (!idempotent) return false;
  const code = codeOf(error);
  if (code === undefined) return false;
  if (UNDELIVERED.has(code)) return true;
  const context = contextOf(error);
  if (code === 'HSU_ERR_CIRCUIT_OPEN') return context['scope'] === 'instance';
  if (!codes.has(code)) return false;
  return code !== 'HSU_ERR_CALL_TIMEOUT' || context['scope'] === 'attempt';
}
