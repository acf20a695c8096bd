/**
 * A master for tests: no state directory, no control API, logs captured in memory, per-worker
 * files in a fresh temp directory, a short shutdown bound. It starts in milliseconds, offers
 * waits for states, health and events, and its close() (or `await using`) guarantees that every
 * process it started is gone, killing what a shutdown left behind and reporting it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LevelWithSilent } from 'pino';
import type { WorkerConfig, WorkerConfigInput } from '../config/index.js';
import { hsuError } from '../errors.js';
import type { HealthStatus } from '../lifecycle/health-watchdog.js';
import type { WorkerState } from '../lifecycle/states.js';
import { loadConfigForMaster } from '../master/config-loader.js';
import type { MasterEvents } from '../master/events.js';
import { Master } from '../master/master.js';
import type { ModuleExport } from '../worker/contract.js';
import { LogCapture } from './log-capture.js';
import { ProcessTracker, TEST_MARKER_VARIABLE } from './process-tracker.js';
import { waitUntil, type WaitOptions } from './waits.js';

export interface TestMasterOptions {
  /** A config file whose workers are added (its `master:` block is not used: a test master keeps its own settings). */
  readonly configFile?: string;
  /** Workers to add at once. */
  readonly workers?: readonly (WorkerConfigInput | WorkerConfig)[];
  /** Native module factories, by name. */
  readonly natives?: Readonly<Record<string, ModuleExport>>;
  /** Relative paths of added workers resolve against this; default the config file's directory, else the temp directory. */
  readonly baseDir?: string;
  /** Level of the captured log; default debug. */
  readonly logLevel?: LevelWithSilent;
  /** Shutdown bound; default 5 s. */
  readonly shutdownTimeoutMs?: number;
  /** Register close() with the test framework, e.g. `after` of node:test or `afterAll`/`onTestFinished` of vitest. */
  readonly cleanup?: (close: () => Promise<void>) => unknown;
}

export class TestMaster implements AsyncDisposable {
  readonly master: Master;
  readonly logs: LogCapture;
  /** A fresh directory for worker log files and anything the test writes; removed by close(). */
  readonly dir: string;
  private readonly tracker = new ProcessTracker();
  private readonly history: string[] = [];
  private closed: Promise<void> | undefined;

  constructor(options: TestMasterOptions = {}) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'hsu-test-'));
    this.logs = new LogCapture(options.logLevel ?? 'debug');
    this.master = new Master({
      logger: this.logs.logger,
      logDir: path.join(this.dir, 'logs'),
      baseDir: options.baseDir ?? this.dir,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
      sampleIntervalMs: 250,
    });
    this.master.on('state', (event) => {
      this.history.push(`${event.worker_id}:${event.from}->${event.to}`);
      if (this.history.length > 50) this.history.shift();
      if (event.pid !== null) this.tracker.track(event.pid);
    });
    for (const [name, factory] of Object.entries(options.natives ?? {})) this.master.registerNativeModuleFactory(name, factory);
    for (const worker of options.workers ?? []) this.add(worker);
    options.cleanup?.(() => this.close());
  }

  /** The environment marker every process worker added through {@link add} carries (and so its descendants). */
  get marker(): string {
    return this.tracker.marker;
  }

  /** Adds a worker; a process worker's environment gets the marker so everything it forks is found at close. */
  add(worker: WorkerConfigInput | WorkerConfig): string {
    const marked = worker.type === 'process' && worker.execution !== undefined
      ? { ...worker, execution: { ...worker.execution, environment: { ...worker.execution.environment, [TEST_MARKER_VARIABLE]: this.marker } } }
      : worker;
    this.master.addWorker(marked as WorkerConfigInput);
    return worker.id;
  }

  /** Adds (when given a config) and starts a worker; resolves once it runs. */
  async start(worker: string | WorkerConfigInput): Promise<string> {
    const id = typeof worker === 'string' ? worker : this.add(worker);
    await this.master.startWorker(id);
    return id;
  }

  /** Starts every enabled worker, as `hsu run` does. */
  startAll(): ReturnType<Master['start']> {
    return this.master.start();
  }

  waitForState(id: string, state: WorkerState, options?: WaitOptions): Promise<void> {
    return this.wait(`${id} to reach ${state}`, () => this.master.getWorkerState(id) === state || undefined, options).then(() => undefined);
  }

  /** The n-th (from now) restart of `id` done and running again. */
  async waitForRestart(id: string, options?: WaitOptions): Promise<void> {
    const before = this.master.getWorkerStateWithDiagnostics(id).restart_count;
    await this.wait(`${id} to be restarted and running`, () => {
      const d = this.master.getWorkerStateWithDiagnostics(id);
      return (d.restart_count > before && d.state === 'running') || undefined;
    }, options);
  }

  /** Resolves once the worker's health (probed by its health check, or asked now) is `status`. */
  waitForHealth(id: string, status: HealthStatus, options: WaitOptions = {}): Promise<void> {
    let last: HealthStatus | undefined;
    let asking = false;
    const ask = (): void => {
      if (asking) return;
      asking = true;
      this.master.getWorkerHealth(id).then((h) => (last = h.status), () => undefined).finally(() => (asking = false));
    };
    ask();
    return this.wait(`${id} to be ${status}`, () => {
      if (last === status) return true;
      ask();
      return undefined;
    }, { poll: 25, ...options }).then(() => undefined);
  }

  /** The next event `name` (after now) that `match` accepts. */
  waitForEvent<K extends keyof MasterEvents>(name: K, match: (event: MasterEvents[K]) => boolean = () => true, options: WaitOptions = {}): Promise<MasterEvents[K]> {
    let found: MasterEvents[K] | undefined;
    const off = this.master.on(name, (event) => {
      if (found === undefined && match(event)) found = event;
    });
    return this.wait(`a matching '${name}' event`, () => found, options).finally(off);
  }

  /** The first output line of a process or thread worker matching `pattern` (seen from now on). */
  async waitForOutput(id: string, pattern: RegExp | string, options?: WaitOptions): Promise<string> {
    const test = (line: string): boolean => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line));
    const event = await this.waitForEvent('output', (e) => e.worker_id === id && test(e.line), options);
    return event.line;
  }

  /** The first log record of a worker (a module's ctx.logger output included) whose message matches. */
  waitForLog(id: string, pattern: RegExp | string, options?: WaitOptions): Promise<Record<string, unknown>> {
    const test = (msg: unknown): boolean => typeof msg === 'string' && (typeof pattern === 'string' ? msg.includes(pattern) : pattern.test(msg));
    return this.wait(`a log record of ${id} matching ${String(pattern)}`, () => this.logs.of(id).find((r) => test(r.msg)), options);
  }

  /** Any condition, re-checked after every event and log record. */
  wait<T>(what: string, pick: () => T | undefined | false, options?: WaitOptions): Promise<T> {
    return waitUntil(this.master, this.logs, what, pick, options, () => `recent transitions: ${this.history.slice(-12).join(', ') || 'none'}`);
  }

  /** Live processes this master started (workers and their descendants). */
  processes(): number[] {
    this.tracker.refresh();
    return this.tracker.alive();
  }

  /**
   * Shuts the master down, then makes sure nothing it started is alive: leftovers are SIGKILLed
   * and reported with TEST_LEFTOVER_PROCESSES. Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async doClose(): Promise<void> {
    try {
      this.tracker.refresh();
      await this.master.shutdown();
      const left = await this.tracker.waitGone(5_000);
      if (left.length > 0) {
        this.tracker.killAllSync();
        throw hsuError('TEST_LEFTOVER_PROCESSES', `processes started by the test master outlived its shutdown and were killed: ${left.join(', ')}`, { pids: left });
      }
    } finally {
      this.tracker.close();
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** A test master, with the workers of `configFile` (loaded as `hsu run` would) and `workers` added. */
export async function createTestMaster(options: TestMasterOptions = {}): Promise<TestMaster> {
  if (options.configFile === undefined) return new TestMaster(options);
  const file = path.resolve(options.configFile);
  const config = await loadConfigForMaster(file, { install: false });
  const master = new TestMaster({ baseDir: path.dirname(file), ...options, workers: [...config.workers, ...(options.workers ?? [])] });
  return master;
}
