/**
 * What the conformance suite stands on: one worker config per deployment built from the same
 * fixture file (only the YAML lines that pick the deployment differ), a master whose pino logger
 * writes to memory, an event recorder, and liveness helpers with generous bounds.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type * as z from 'zod';
import type { resourceLimitsSchema, restartSchema, WorkerConfigInput } from '../../src/config/index.js';
import type { ExitEvent, RestartEvent, StateChangeEvent } from '../../src/lifecycle/events.js';
import { Master } from '../../src/master/master.js';
import { isAlive, listAllProcesses } from '../../src/os/index.js';
import { moduleFixture } from '../helpers/paths.js';

export type Deployment = 'inline' | 'thread' | 'process';

/** Generous liveness bound for anything that should happen "soon" on a loaded 2-core machine. */
export const LIVENESS_MS = 15_000;

export interface WorkerOptions {
  /** Fixture module under test/fixtures/modules, without extension. Default `conformance`. */
  readonly fixture?: string;
  readonly config?: Record<string, unknown>;
  readonly restart?: z.input<typeof restartSchema>;
  /** Only meaningful for thread and process; the schema refuses it inline. */
  readonly resourceLimits?: z.input<typeof resourceLimitsSchema>;
}

/** Fast restarts with a high intensity limit: crash tests must not run into `failed` by accident. */
const TEST_RESTART: z.input<typeof restartSchema> = { policy: 'on-failure', backoff: { initial: '20ms', max: '200ms', jitter: 0 }, intensity: { max_restarts: 50, window: '60s' } };

/**
 * The worker entry as a user would write it in YAML. Everything but the lines that choose the
 * deployment (`type`, `isolation`) is shared.
 */
export function workerConfig(deployment: Deployment, id: string, options: WorkerOptions = {}): WorkerConfigInput {
  const module = {
    module_type: 'plugin' as const,
    module_path: moduleFixture(`${options.fixture ?? 'conformance'}.js`),
    config: options.config ?? { label: id },
    ...(options.resourceLimits === undefined ? {} : { resource_limits: options.resourceLimits }),
  };
  const common = { id, stop_timeout: '10s', restart: options.restart ?? TEST_RESTART };
  switch (deployment) {
    case 'inline':
      return { ...common, type: 'module', module: { ...module, isolation: 'inline' } };
    case 'thread':
      return { ...common, type: 'module', module: { ...module, isolation: 'thread' } };
    case 'process':
      return { ...common, type: 'process', module };
  }
}

/** A pino logger writing JSON lines to memory, so tests can read what reached the master's log. */
export class LogCapture {
  readonly lines: string[] = [];
  readonly logger = pino(
    { level: 'info' },
    new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line !== '') this.lines.push(line);
        callback();
      },
    }),
  );

  /** Resolves with the first raw line whose record matches. */
  waitForLine(what: string, match: (record: Record<string, unknown>) => boolean): Promise<string> {
    return waitFor(what, () => this.lines.find((line) => match(JSON.parse(line) as Record<string, unknown>)));
  }
}

/** One master per deployment suite, with every lifecycle event it published. */
export class Suite {
  readonly logs = new LogCapture();
  readonly logDir = mkdtempSync(path.join(os.tmpdir(), 'hsu-conformance-'));
  readonly master = new Master({ logger: this.logs.logger, logDir: this.logDir, shutdownTimeoutMs: LIVENESS_MS });
  readonly states: StateChangeEvent[] = [];
  readonly exits: ExitEvent[] = [];
  readonly restarts: RestartEvent[] = [];
  /** Every pid a worker of this suite ever had: none may outlive the suite. */
  readonly pids = new Set<number>();

  constructor(readonly deployment: Deployment) {
    this.master.on('state', (e) => {
      this.states.push(e);
      if (e.pid !== null) this.pids.add(e.pid);
    });
    this.master.on('exit', (e) => this.exits.push(e));
    this.master.on('restart', (e) => this.restarts.push(e));
  }

  /** Adds a worker of this suite's deployment; ids are unique per suite. */
  add(id: string, options: WorkerOptions = {}): string {
    this.master.addWorker(workerConfig(this.deployment, id, options));
    return id;
  }

  async start(id: string, options: WorkerOptions = {}): Promise<string> {
    this.add(id, options);
    await this.master.startWorker(id);
    return id;
  }

  diagnostics(id: string): Diagnostics {
    return this.master.getWorkerStateWithDiagnostics(id) as unknown as Diagnostics;
  }

  /** Resolves once the worker has been restarted by policy at least `count` times and runs again. */
  async restarted(id: string, count = 1): Promise<Diagnostics> {
    return waitFor(`'${id}' restarted ${count} time(s) and running`, () => {
      const d = this.diagnostics(id);
      return d.restart_count >= count && d.state === 'running' ? d : undefined;
    });
  }

  /** Ends the suite: shutdown, then no worker process may be left, by pid or as our child. */
  async close(): Promise<void> {
    try {
      await this.master.shutdown();
      assertNoHostProcesses(this.pids);
    } finally {
      rmSync(this.logDir, { recursive: true, force: true });
    }
  }
}

export const SIBLING = 'sibling';

/** The sibling still runs and answers, with the instance it had before (it was never restarted). */
export async function assertSiblingUnaffected(suite: Suite): Promise<void> {
  const d = suite.diagnostics(SIBLING);
  assert.equal(d.state, 'running', 'the sibling worker must keep running');
  assert.equal(d.restart_count, 0, 'the sibling worker must not have been restarted');
  assert.deepEqual(await suite.master.call(SIBLING, 'echo', { text: 'still here', n: 1 }), { text: 'still here', doubled: 2 });
}

export interface Diagnostics {
  id: string;
  type: string;
  runtime: string;
  state: string;
  pid: number | null;
  started_at: string | null;
  uptime_ms: number | null;
  restart_count: number;
  consecutive_restarts: number;
  last_error: { code: string; message: string; stack?: string } | null;
  last_exit: { requested: boolean; exit_code: number | null; signal: string | null; forced: boolean; error: { code: string } | null } | null;
  health: { status: string; reason?: string };
  endpoint: { type: string; address: string; metadata?: Record<string, unknown> } | null;
  details: Record<string, unknown>;
  history: { from: string; to: string }[];
  enabled: boolean;
}

/** Polls until `probe` returns something other than undefined/false; fails with `what` after the bound. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = LIVENESS_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Asserts a rejection with an hsu (or module) error code; returns the error for further checks. */
export async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<Error & { code: string; context?: Record<string, unknown> }> {
  let caught: unknown;
  await assert.rejects(
    promise.catch((error: unknown) => {
      caught = error;
      throw error;
    }),
    (error: Error & { code?: string }) => {
      assert.equal(error.code, code, `expected ${code}, got ${String(error.code)}: ${error.message}`);
      return true;
    },
  );
  return caught as Error & { code: string };
}

/** Liveness bound for "fails fast": the promise settles well within the bound, whatever it settles to. */
export async function settlesWithin(what: string, promise: Promise<unknown>, timeoutMs = 5_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
  const outcome = await Promise.race([promise.then(() => 'settled' as const, () => 'settled' as const), late]);
  clearTimeout(timer);
  assert.equal(outcome, 'settled', `${what} did not settle within ${timeoutMs} ms`);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** No hsu module host left: not a pid we saw, not any child of this process running host-entry. */
export function assertNoHostProcesses(seen: Iterable<number>): void {
  const leftovers = [...seen].filter((pid) => isAlive(pid) && cmdline(pid).includes('host-entry'));
  const children = listAllProcesses()
    .filter((stat: { ppid: number; state: string; pid: number }) => stat.ppid === process.pid && stat.state !== 'Z' && cmdline(stat.pid).includes('host-entry'))
    .map((stat: { pid: number }) => stat.pid);
  assert.deepEqual({ leftovers, children }, { leftovers: [], children: [] }, 'module host processes outlived the master');
}
