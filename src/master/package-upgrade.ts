/**
 * A packaged worker's move to another version on reload: refused when it goes down without
 * `allow_downgrade`; once started, watched for its `rollback_window`: a failed start, a crash or an
 * unhealthy probe in that window puts the previous version back. The store's current/previous
 * record per worker follows, so `hsu package rm` keeps both versions while either may be needed.
 */
import { semverLib } from '../lazy-libs.js';
import type { Logger } from 'pino';
import type { WorkerConfig } from '../config/index.js';
import { hsuError } from '../errors.js';
import type { Master } from './master.js';

export interface PackageMove {
  readonly name: string;
  readonly from: string;
  readonly to: string;
}

/** The version move between two configs of one worker, when both run the same package at exact versions that differ. */
export function packageMove(before: WorkerConfig, after: WorkerConfig): PackageMove | undefined {
  const a = before.package;
  const b = after.package;
  if (a === undefined || b === undefined || a.name !== b.name || a.range === b.range) return undefined;
  if (semverLib().valid(a.range) === null || semverLib().valid(b.range) === null) return undefined;
  return { name: b.name, from: a.range, to: b.range };
}

/** PACKAGE_DOWNGRADE before anything is stopped, unless the new config allows it. */
export function assertMoveAllowed(id: string, move: PackageMove, after: WorkerConfig): void {
  if (semverLib().lt(move.to, move.from) && !after.allow_downgrade) {
    throw hsuError('PACKAGE_DOWNGRADE', `worker '${id}': ${move.name} ${move.to} is lower than the running ${move.from}; set allow_downgrade: true on the worker to permit it`, { worker_id: id, package: move.name, from: move.from, to: move.to });
  }
}

/**
 * Calls `fail` once with the reason when the worker crashes, fails or turns unhealthy within
 * `windowMs`; returns the function that stops watching (at the window's end it stops by itself).
 */
export function watchNewVersion(master: Master, id: string, windowMs: number, fail: (reason: string) => void, settled: () => void): () => void {
  let done = false;
  const finish = (reason?: string): void => {
    if (done) return;
    done = true;
    dispose();
    if (reason === undefined) settled();
    else fail(reason);
  };
  const offState = master.on('state', (event) => {
    if (event.worker_id !== id) return;
    if (event.to === 'failed') finish(`it failed (${event.reason ?? 'restart limit reached'})`);
    else if (event.from === 'running' && event.to === 'waiting_restart') finish(`it crashed (${event.reason ?? 'exited'})`);
  });
  const offHealth = master.on('health', (event) => {
    if (event.worker_id === id && event.status === 'unhealthy') finish(`its health check failed${event.reason === undefined ? '' : ` (${event.reason})`}`);
  });
  const timer = setTimeout(() => finish(), windowMs);
  timer.unref(); // the window never keeps a master alive; shutdown ends it through dispose
  function dispose(): void {
    clearTimeout(timer);
    offState();
    offHealth();
  }
  return () => {
    done = true;
    dispose();
  };
}

/** The store's per-worker record of current and previous versions; failures are logged, never fatal. */
export interface VersionBook {
  setCurrent(name: string, version: string, options: { scope: string; allowDowngrade: boolean }): Promise<unknown>;
  rollback(name: string, scope: string): Promise<unknown>;
}

export async function record(logger: Logger | undefined, what: string, run: () => Promise<unknown>): Promise<void> {
  await run().catch((err: unknown) => logger?.warn({ err }, `package bookkeeping (${what}) failed; the worker is not affected`));
}
