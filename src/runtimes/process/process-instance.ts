/**
 * One running OS process of a worker: its exit, its output pipes, its termination (one signal to
 * its group per step, SIGKILL after the grace period) and its resource usage.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { hsuError, serializeError, type SerializedError } from '../../errors.js';
import type { ExitInfo, Instance, StopRequest } from '../../lifecycle/runtime.js';
import { signalIdentities, signalQuietly, signalTree } from '../../os/kill-tree.js';
import type { ProcessGroups } from '../../os/process-groups.js';
import { CpuSampler, isAlive, readRssBytes, type ProcessIdentity } from '../../os/proc.js';
import type { WorkerEndpoint } from '../../worker/contract.js';
import type { OutputCapture } from '../output/index.js';
import { Termination } from '../terminate.js';
import type { Assigned } from './integration.js';
import type { ProcessTracker } from './process-runtime.js';

/** How long after 'exit' we wait for stdio to drain: a pipe held open by an orphan must not hang us. */
const STDIO_GRACE_MS = 100;

export interface ProcessInstanceOptions {
  readonly workerId: string;
  readonly executablePath: string;
  readonly logger: Logger;
  readonly output: OutputCapture;
  readonly tracker?: ProcessTracker;
  readonly groups?: ProcessGroups;
  /** An integrated worker's port. */
  readonly assigned?: Assigned;
}

export class ProcessInstance implements Instance {
  readonly exited: Promise<ExitInfo>;
  readonly released: Promise<void>;
  private settle!: (info: ExitInfo) => void;
  private exitSeen = false;
  private readonly termination: Termination;
  /** Set at 'exit'; `exited` settles with it once both pipes are done. */
  private exitInfo: ExitInfo | undefined;
  /** Descendants seen when signalling; they may have left the group, so we finish them by identity. */
  private readonly known = new Map<number, ProcessIdentity>();
  private readonly cpu: CpuSampler;
  private pipesOpen = 0;
  private readonly finishers: (() => void)[] = [];
  private drainTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    private readonly options: ProcessInstanceOptions,
  ) {
    this.exited = new Promise((resolve) => (this.settle = resolve));
    this.released = this.exited.then(() => undefined);
    this.termination = new Termination({ graceful: (signal) => this.signal(signal), force: () => this.signal('SIGKILL') }, this.exited);
    this.cpu = new CpuSampler(pid);
    options.groups?.add(pid);
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = name === 'stdout' ? child.stdout : child.stderr;
      if (stream === null) continue;
      this.pipesOpen += 1;
      const { done, finish } = options.output.attach(stream, name, pid, options.logger);
      this.finishers.push(finish);
      void done.then(() => {
        this.pipesOpen -= 1;
        this.maybeSettle();
      });
    }
    child.on('error', (err) => options.logger.debug({ err, pid }, 'child process error'));
    child.once('exit', (code, signal) => this.onExit(code, signal));
    // Last: outside bookkeeping must never run before the exit listener is in place.
    options.tracker?.add(options.workerId, pid);
  }

  get port(): number | undefined {
    return this.options.assigned?.port;
  }

  get host(): string | undefined {
    return this.options.assigned?.host;
  }

  stop(request: StopRequest): Promise<void> {
    if (!this.exitSeen) this.termination.request(request);
    return this.exited.then(() => undefined);
  }

  /** The process is ending by itself (its host reported a fatal error): kill it if it has not within `graceMs`. */
  expectEnd(graceMs: number): void {
    if (!this.exitSeen) this.termination.bound(graceMs);
  }

  health(): Promise<boolean> {
    return Promise.resolve(!this.exitSeen && isAlive(this.pid));
  }

  endpoint(): WorkerEndpoint | undefined {
    const assigned = this.options.assigned;
    return assigned === undefined ? undefined : { type: 'url', address: `http://${assigned.host}:${assigned.port}`, metadata: { port: assigned.port, host: assigned.host } };
  }

  diagnostics(): Readonly<Record<string, unknown>> {
    const alive = !this.exitSeen;
    return {
      pid: this.pid,
      pgid: this.pid,
      executable_path: this.options.executablePath,
      ...(this.options.assigned === undefined ? {} : { port: this.options.assigned.port, host: this.options.assigned.host }),
      resource_usage: {
        rss_bytes: alive ? (readRssBytes(this.pid) ?? null) : null,
        cpu_percent: alive ? (this.cpu.sample() ?? null) : null,
      },
    };
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.exitSeen) return;
    for (const id of signalTree(this.pid, this.pid, signal)) this.known.set(id.pid, id);
  }

  private onExit(exitCode: number | null, signal: NodeJS.Signals | null): void {
    this.exitSeen = true;
    // Right away, while the pgid cannot have been recycled: no grandchild outlives its worker.
    signalQuietly(-this.pid, 'SIGKILL');
    signalIdentities(this.known.values(), 'SIGKILL');
    this.options.groups?.delete(this.pid);
    this.options.tracker?.remove(this.pid);
    const requested = this.termination.requested;
    const error = requested || exitCode === 0 ? undefined : this.crashError(exitCode, signal);
    this.exitInfo = { requested, exitCode, signal, forced: this.termination.forced !== undefined, at: Date.now(), ...(error && { error }) };
    this.maybeSettle();
    // Output still draining is worth a moment, an orphan holding the pipe open is not.
    this.drainTimer = setTimeout(() => {
      for (const finish of this.finishers) finish();
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    }, STDIO_GRACE_MS);
  }

  private maybeSettle(): void {
    if (this.exitInfo === undefined || this.pipesOpen > 0) return;
    clearTimeout(this.drainTimer);
    this.settle(this.exitInfo);
  }

  private crashError(exitCode: number | null, signal: string | null): SerializedError {
    const worker_id = this.options.workerId;
    const message = signal !== null ? `process killed by ${signal}` : `process exited with code ${exitCode}`;
    const err = hsuError('WORKER_CRASHED', message, { worker_id, pid: this.pid, exit_code: exitCode, signal });
    // The stack would be the master's exit handler: noise, not information.
    const { stack: _stack, ...serialized } = serializeError(err);
    return serialized;
  }
}
