// Shared by the Master integration tests: temp dirs, masters that clean up after themselves, an
// event log to wait on (instead of sleeping), and /proc checks that need no help from src/.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Master } from '../../src/index.js';
import type { ExitEvent, HealthEvent, MasterOptions, RestartEvent, StateChangeEvent, WorkerConfigInput, WorkerOutputEvent, WorkerState } from '../../src/index.js';
import type { ResourcesSnapshot } from '../../src/limits/resources-watchdog.js';
import { fixture } from './paths.js';

/** Generous bound for anything that should take milliseconds; only a hang should ever hit it. */
export const LIVENESS_MS = 10_000;

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hsu-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Absolute path of a plugin fixture (test/fixtures/plugins). */
export function plugin(name: string): string {
  return fixture(path.join('plugins', name));
}

/**
 * Every event a master publishes, recorded from its creation. Waits look at what already happened
 * first, so a test cannot miss an event that fired before it started waiting.
 */
export class EventLog {
  readonly states: StateChangeEvent[] = [];
  readonly exits: ExitEvent[] = [];
  readonly restarts: RestartEvent[] = [];
  readonly health: HealthEvent[] = [];
  readonly output: WorkerOutputEvent[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(master: Master) {
    const record =
      <T>(list: T[]) =>
      (event: T): void => {
        list.push(event);
        for (const waiter of [...this.waiters]) waiter();
      };
    master.on('state', record(this.states));
    master.on('exit', record(this.exits));
    master.on('restart', record(this.restarts));
    master.on('health', record(this.health));
    master.on('output', record(this.output));
  }

  /**
   * Resolves with the first non-undefined `pick()`, re-evaluated after every event (and every
   * `pollMs` when given, for conditions no event announces, such as a file's content).
   */
  waitFor<T>(what: string, pick: () => T | undefined, timeoutMs = LIVENESS_MS, pollMs?: number): Promise<T> {
    const now = pick();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = pick();
        if (value === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        clearInterval(poll);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        clearInterval(poll);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; transitions: ${this.describe()}`));
      }, timeoutMs);
      const poll = pollMs === undefined ? undefined : setInterval(check, pollMs);
      this.waiters.add(check);
    });
  }

  /** The n-th (1-based) transition of `id` into `to`. */
  state(id: string, to: WorkerState, nth = 1, timeoutMs = LIVENESS_MS): Promise<StateChangeEvent> {
    return this.waitFor(`${id} -> ${to} #${nth}`, () => this.states.filter((e) => e.worker_id === id && e.to === to)[nth - 1], timeoutMs);
  }

  /** The first output line of `id` matching `match`. */
  line(id: string, match: (line: string) => boolean, timeoutMs = LIVENESS_MS): Promise<WorkerOutputEvent> {
    return this.waitFor(`a matching output line from ${id}`, () => this.output.find((e) => e.worker_id === id && match(e.line)), timeoutMs);
  }

  /** `from->to` transitions of one worker, in order. */
  transitions(id: string): string[] {
    return this.states.filter((e) => e.worker_id === id).map((e) => `${e.from}->${e.to}`);
  }

  private describe(): string {
    return this.states.map((e) => `${e.worker_id}:${e.from}->${e.to}`).join(', ') || 'none';
  }
}

/**
 * Waits for the worker to reach `state` through the master's 'state' event (resolves at once when
 * it is already there).
 */
export function waitForState(master: Master, id: string, state: WorkerState, timeoutMs = LIVENESS_MS): Promise<void> {
  if (master.getWorkerState(id) === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onState = (e: StateChangeEvent): void => {
      if (e.worker_id !== id || e.to !== state) return;
      master.off('state', onState);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      master.off('state', onState);
      reject(new Error(`worker ${id} did not reach ${state} within ${timeoutMs} ms (it is ${master.getWorkerState(id)})`));
    }, timeoutMs);
    master.on('state', onState);
  });
}

export interface TestMaster {
  readonly master: Master;
  readonly events: EventLog;
  readonly dir: string;
  /** A value unique to this master; process workers get it as HSU_TEST_MARKER so /proc can find every descendant. */
  readonly marker: string;
}

let masters = 0;

/**
 * A master logging nowhere, with logs and relative paths in a fresh temp dir. Run the test body
 * inside {@link withMaster} so it is always shut down and its dir removed.
 */
export function createTestMaster(options: MasterOptions = {}): TestMaster & { dispose: () => Promise<void> } {
  const { dir, remove } = tempDir('master');
  const master = new Master({ logDir: path.join(dir, 'logs'), baseDir: dir, shutdownTimeoutMs: 5_000, sampleIntervalMs: 100, ...options });
  const events = new EventLog(master);
  const marker = `${process.pid}-${++masters}-${Date.now()}`;
  const dispose = async (): Promise<void> => {
    await master.shutdown();
    // Whatever a test asserted, nothing it started may outlive it.
    const left = await waitForMarkerGone(marker, LIVENESS_MS);
    killMarked(marker); // a failed test must not leak processes into the next one
    remove();
    assert.deepEqual(left, [], `processes of this master still alive after shutdown: ${left.join(', ')}`);
  };
  return { master, events, dir, marker, dispose };
}

export async function withMaster(body: (t: TestMaster) => Promise<void>, options: MasterOptions = {}): Promise<void> {
  const t = createTestMaster(options);
  try {
    await body(t);
  } finally {
    await t.dispose();
  }
}

/**
 * A `type: process` worker config running a fixture with node, tagged with the master's marker.
 * `extra.execution` is merged into the execution block (its environment keeps the marker).
 */
export function nodeWorker(
  t: TestMaster,
  id: string,
  script: string,
  args: readonly string[] = [],
  extra: Record<string, unknown> & { execution?: Record<string, unknown> } = {},
): WorkerConfigInput {
  const { execution, ...rest } = extra;
  const environment = { ...(execution?.environment as Record<string, string> | undefined), HSU_TEST_MARKER: t.marker };
  return {
    id,
    type: 'process',
    execution: { executable_path: process.execPath, args: [fixture(script), ...args], ...execution, environment },
    ...rest,
  } as WorkerConfigInput;
}

/** A `type: module` plugin worker config. */
export function pluginWorker(id: string, file: string, config: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): WorkerConfigInput {
  return { id, type: 'module', module: { module_type: 'plugin', module_path: plugin(file), config }, ...extra } as WorkerConfigInput;
}

// ---- /proc ---------------------------------------------------------------------------------------

function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** The pids among `pids` that exist in /proc and are not zombies. */
export function alivePids(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    const state = procState(pid);
    return state !== undefined && state !== 'Z';
  });
}

/** Polls /proc until none of `pids` is alive; returns the ones still alive at the deadline. */
export async function waitForGone(pids: readonly number[], timeoutMs = LIVENESS_MS): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = alivePids(pids);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Live processes whose environment carries HSU_TEST_MARKER=marker: a worker and every descendant. */
export function processesWithMarker(marker: string): number[] {
  const needle = `HSU_TEST_MARKER=${marker}\0`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue; // gone, or not ours
    }
    if (`${environ}\0`.includes(needle)) found.push(Number(name));
  }
  return alivePids(found);
}

/** SIGKILLs every live process carrying the marker: the cleanup of last resort after a failed test. */
export function killMarked(marker: string): void {
  for (const pid of processesWithMarker(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function waitForMarkerGone(marker: string, timeoutMs = LIVENESS_MS): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = processesWithMarker(marker);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Files under `dir` that this process holds open (from /proc/self/fd). */
export function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${dir}/`)) out.push(target);
    } catch {
      // closed between listing and reading
    }
  }
  return out;
}

// ---- assertions ----------------------------------------------------------------------------------

/** Asserts that `promise` rejects with an error carrying `code`, and returns that error. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string; context: Record<string, unknown> }> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected a rejection with ${code}, got a resolution`),
    (error: unknown) => (caught = error),
  );
  assert.equal((caught as { code?: unknown }).code, code, `expected ${code}, got ${String((caught as Error).stack ?? caught)}`);
  return caught as Error & { code: string; context: Record<string, unknown> };
}

/** Asserts that `fn` throws synchronously an error carrying `code`, and returns that error. */
export function throwsWithCode(fn: () => unknown, code: string): Error & { code: string; context: Record<string, unknown> } {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected a throw with ${code}`);
  assert.equal((caught as { code?: unknown }).code, code, `expected ${code}, got ${String((caught as Error).stack ?? caught)}`);
  return caught as Error & { code: string; context: Record<string, unknown> };
}

/** Typed view of the diagnostics record, for the fields the tests read. */
export interface Diagnostics {
  id: string;
  type: string;
  runtime: string;
  state: WorkerState;
  enabled: boolean;
  pid: number | null;
  started_at: string | null;
  uptime_ms: number | null;
  restart_count: number;
  last_error: { code: string; message: string; at: string } | null;
  last_exit: { requested: boolean; exit_code: number | null; signal: string | null; forced: boolean; at: string; error: { code: string } | null } | null;
  health: { status: string; reason?: string };
  details: Record<string, unknown> & {
    module?: { name: string; version: string };
    load_time?: string;
    executable_path?: string;
    executable_exists?: boolean;
  };
  history: { from: WorkerState; to: WorkerState; at: string; reason?: string }[];
}

/** The worker's resources once the master has sampled them at least once. */
export async function waitForSample(master: Master, id: string, timeoutMs = LIVENESS_MS): Promise<ResourcesSnapshot> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const resources = master.getWorkerStateWithDiagnostics(id).watchdogs.resources as ResourcesSnapshot | undefined;
    if (resources?.sampled_at !== null && resources !== undefined) return resources;
    if (Date.now() > deadline) throw new Error(`worker ${id} was not sampled within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function diagnostics(master: Master, id: string): Diagnostics {
  return master.getWorkerStateWithDiagnostics(id) as unknown as Diagnostics;
}
