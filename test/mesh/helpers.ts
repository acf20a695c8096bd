// Shared by the mesh tests: instances to register, waiting on a condition, counting, leftovers.
import assert from 'node:assert/strict';
import { createHook, type AsyncHook } from 'node:async_hooks';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';
import type { InstanceInput, MemoryRegistry } from '../../src/mesh/index.js';

export const LIVENESS_MS = 10_000;

export function meshFixture(name: string): string {
  return path.join(repoRoot, 'test', 'mesh', 'fixtures', name);
}

export function instance(id: string, service = 'svc', extra: Partial<InstanceInput> = {}): InstanceInput {
  return { id, service, endpoint: { type: 'function', address: id }, health: 'healthy', ...extra };
}

/** Registers `count` healthy instances `prefix#0..` of `service`. */
export function registerMany(registry: MemoryRegistry, service: string, count: number, prefix = service): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${prefix}#${i}`;
    registry.register(instance(id, service));
    ids.push(id);
  }
  return ids;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 5 ms until it holds; fails after the liveness bound (only a hang hits it). */
export async function until(what: string, check: () => boolean, timeoutMs = LIVENESS_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Lets queued microtasks and immediates (mailbox deliveries) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export function tally(values: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** Rejects with the error a promise rejects with, failing if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; context?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; context?: Record<string, unknown> };
  }
  assert.fail('expected a rejection');
}

export function thrown(fn: () => unknown): Error & { code?: string; context?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as Error & { code?: string; context?: Record<string, unknown> };
  }
  assert.fail('expected a throw');
}

/**
 * Counts the timers created since it started that are still alive, ref'd or not (an unref'd
 * timer is invisible to process.getActiveResourcesInfo()): the "nothing left after close" check.
 */
export class TimerTracker {
  private readonly alive = new Set<number>();
  private readonly hook: AsyncHook;

  constructor() {
    this.hook = createHook({
      init: (id, type) => {
        if (type === 'Timeout') this.alive.add(id);
      },
      destroy: (id) => {
        this.alive.delete(id);
      },
    }).enable();
  }

  /** Live timers once pending callbacks (a sleep that just fired) have run. */
  async live(): Promise<number> {
    await settle();
    return this.alive.size;
  }

  stop(): void {
    this.hook.disable();
  }
}

/** The config issues' paths of a CONFIG_INVALID (or other located) error. */
export function issuePaths(error: { context?: Record<string, unknown> }): string[] {
  const issues = (error.context?.['issues'] ?? []) as { path: string }[];
  return issues.map((issue) => issue.path);
}
