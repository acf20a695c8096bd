/**
 * The one worker state machine, shared by every worker type. Every state change goes through
 * {@link assertTransition}; there is no other place that knows which moves are legal.
 */
import { hsuError } from '../errors.js';

export const WORKER_STATES = [
  'idle', // added, never started
  'starting', // launch in progress
  'running',
  'stopping', // a stop is under way (requested, or a watchdog's: unhealthy, limit, fatal)
  'stopped', // ended on request, or exited cleanly with no restart due
  'failed_start', // launch threw or timed out; the error is kept
  'waiting_restart', // ended unexpectedly; backoff timer pending
  'failed', // gave up: restart policy said no, or the intensity limit was passed
] as const;

export type WorkerState = (typeof WORKER_STATES)[number];

export const TRANSITIONS: Readonly<Record<WorkerState, readonly WorkerState[]>> = {
  idle: ['starting'],
  starting: ['running', 'failed_start', 'stopping'],
  running: ['stopping', 'waiting_restart', 'stopped', 'failed'],
  // A watchdog's stop ends in the restart policy's verdict, like a crash.
  stopping: ['stopped', 'waiting_restart', 'failed'],
  stopped: ['starting'],
  failed_start: ['starting', 'waiting_restart', 'failed'],
  waiting_restart: ['starting', 'stopped'],
  failed: ['starting'],
};

/** States from which an operator operation is accepted. */
export const OPERATIONS = {
  start: ['idle', 'stopped', 'failed_start', 'failed'],
  stop: ['starting', 'running', 'waiting_restart'],
  remove: ['idle', 'stopped', 'failed_start', 'failed'],
} as const satisfies Record<string, readonly WorkerState[]>;

export type Operation = keyof typeof OPERATIONS;

export function canTransition(from: WorkerState, to: WorkerState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(workerId: string, from: WorkerState, to: WorkerState): void {
  if (!canTransition(from, to)) {
    throw hsuError('ILLEGAL_TRANSITION', `worker '${workerId}': illegal transition ${from} -> ${to}`, {
      worker_id: workerId,
      from,
      to,
      allowed: TRANSITIONS[from],
    });
  }
}

export function assertOperation(workerId: string, operation: Operation, state: WorkerState): void {
  const allowed: readonly WorkerState[] = OPERATIONS[operation];
  if (!allowed.includes(state)) {
    throw hsuError(
      'ILLEGAL_TRANSITION',
      `cannot ${operation} worker '${workerId}' while it is ${state} (${operation} is allowed when ${allowed.join(', ')})`,
      { worker_id: workerId, operation, state, allowed },
    );
  }
}
