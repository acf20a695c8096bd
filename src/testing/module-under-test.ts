/**
 * What one case of testModule gets: the worker running the module in one deployment, reached
 * only through the master (calls, typed client, diagnostics, health, lifecycle), so the same
 * assertions hold wherever the module runs.
 */
import type { WorkerDiagnostics } from '../lifecycle/diagnostics.js';
import type { HealthSnapshot } from '../lifecycle/health-watchdog.js';
import type { WorkerState } from '../lifecycle/states.js';
import type { Master } from '../master/master.js';
import type { CallOptions, Client } from '../worker/define.js';
import type { Deployment } from './deployments.js';
import type { LogRecord } from './log-capture.js';
import type { TestMaster } from './test-master.js';
import type { WaitOptions } from './waits.js';

export class ModuleUnderTest {
  constructor(
    readonly deployment: Deployment,
    readonly id: string,
    readonly harness: TestMaster,
  ) {}

  get master(): Master {
    return this.harness.master;
  }

  call(action: string, input?: unknown, options?: CallOptions): Promise<unknown> {
    return this.master.call(this.id, action, input, options);
  }

  /** The typed client: `m.client<typeof import('./greeter.ts').default>().greet('Ada')`. */
  client<T>(): Client<T> {
    return this.master.client<T>(this.id);
  }

  state(): WorkerState {
    return this.master.getWorkerState(this.id);
  }

  diagnostics(): WorkerDiagnostics {
    return this.master.getWorkerStateWithDiagnostics(this.id);
  }

  health(): Promise<HealthSnapshot> {
    return this.master.getWorkerHealth(this.id);
  }

  start(): Promise<void> {
    return this.master.startWorker(this.id);
  }

  stop(options: { force?: boolean } = {}): Promise<void> {
    return this.master.stopWorker(this.id, options);
  }

  restart(options: { force?: boolean } = {}): Promise<void> {
    return this.master.restartWorker(this.id, options);
  }

  /** What the module logged through ctx.logger (and the master about it), as records. */
  logs(): LogRecord[] {
    return this.harness.logs.of(this.id);
  }

  waitForState(state: WorkerState, options?: WaitOptions): Promise<void> {
    return this.harness.waitForState(this.id, state, options);
  }

  /** A restart by policy (after a crash) done and running again. */
  waitForRestart(options?: WaitOptions): Promise<void> {
    return this.harness.waitForRestart(this.id, options);
  }

  waitForLog(pattern: RegExp | string, options?: WaitOptions): Promise<Record<string, unknown>> {
    return this.harness.waitForLog(this.id, pattern, options);
  }
}
