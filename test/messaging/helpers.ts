// Shared by the messaging tests: temp log files, the test command types, waits on conditions
// (bounded by a liveness limit, never a timing assertion) and the "nothing left active" check.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { after, before } from 'node:test';
import os from 'node:os';
import path from 'node:path';
import * as z from 'zod';
import { CommandRegistry, defineCommand, SqliteMessageLog } from '../../src/messaging/index.js';
import type { SqliteMessageLogOptions } from '../../src/messaging/index.js';

export const LIVENESS_MS = 15_000;

export const Task = defineCommand('task/run', z.object({ n: z.number().int(), note: z.string().optional() }));
export const Other = defineCommand('other/thing', z.object({ label: z.string() }));
export const commands = CommandRegistry.of(Task, Other);
export type TestTypes = typeof Task | typeof Other;

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hsu-msg-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A scratch directory for the enclosing suite (made before its tests, removed after); `file(name)` is a .db path in it. */
export function useScratch(prefix: string): { readonly dir: string; file(name: string): string } {
  let scratch: ReturnType<typeof tempDir> | undefined;
  before(() => {
    scratch = tempDir(prefix);
  });
  after(() => scratch?.remove());
  const dir = (): string => {
    if (scratch === undefined) throw new Error('useScratch: the directory exists only while the suite runs');
    return scratch.dir;
  };
  return {
    get dir() {
      return dir();
    },
    file: (name: string) => path.join(dir(), `${name}.db`),
  };
}

export function openLog(file: string, options: Omit<SqliteMessageLogOptions<TestTypes>, 'commands'> = {}): SqliteMessageLog<TestTypes> {
  return SqliteMessageLog.open(file, { ...options, commands });
}

/** Resolves once `pick()` returns a value other than undefined; polls every `pollMs`; rejects after `timeoutMs`. */
export async function waitFor<T>(what: string, pick: () => T | undefined | Promise<T | undefined>, timeoutMs = LIVENESS_MS, pollMs = 5): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await pick();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Kinds of active resources (timers, watchers, handles) the process holds now, counted. */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Asserts nothing is active beyond `baseline` (a setImmediate or a closing handle gets a few turns to go). */
export async function assertNothingActiveBeyond(baseline: Map<string, number>): Promise<void> {
  let extra: string[] = [];
  for (let turn = 0; turn < 50; turn++) {
    const now = activeResources();
    extra = [...now].filter(([kind, n]) => n > (baseline.get(kind) ?? 0)).map(([kind, n]) => `${kind} x${n - (baseline.get(kind) ?? 0)}`);
    if (extra.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.deepEqual(extra, [], 'resources still active after close');
}

export function codeOf(err: unknown): string | undefined {
  return (err as { code?: string } | null)?.code;
}

/** Asserts `fn` throws (or rejects) with the given hsu code. */
export async function assertCode(fn: () => unknown, code: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.equal(codeOf(err), code, `expected ${code}, got ${codeOf(err)}: ${(err as Error).message}`);
    return;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}
