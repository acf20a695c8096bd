/**
 * One running OS process of a worker: its exit, its output pipes, its termination (one signal to
 * its group per step, SIGKILL after the grace period) and its resource usage.
 */
import type { ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { hsuError, serializeError, type SerializedError } from '../../errors.js';
import type { ExitInfo, Instance, StopRequest } from '../../lifecycle/runtime.js';
import type { ProcessGroups } from '../../os/process-groups.js';
import type { WorkerCgroup } from '../../os/cgroups/index.js';
import { LAUNCH_FAILED_EXIT } from '../../os/launcher.js';
import { isAlive, type ProcessIdentity } from '../../os/proc.js';
import type { EnforcementReport } from '../../limits/enforcement.js';
import type { WorkerEndpoint } from '../../worker/contract.js';
import type { OutputCapture } from '../output/index.js';
import type { SplitAttachment } from '../output/output-capture.js';
import { Termination } from '../terminate.js';
import type { ProcessFacts } from '../../os/pid-registry.js';
import type { Assigned } from './integration.js';
import { finishWorker, signalWorker } from './signal-worker.js';
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
  /** Recorded with the pid, for a later master to adopt it. */
  readonly facts?: ProcessFacts;
  /** The worker's cgroup: signals reach every member, and what is left when the root exits is killed through it. */
  readonly cgroup?: WorkerCgroup;
  readonly enforcement?: EnforcementReport;
  /** The child writes into split, which writes the files; the master only follows them. */
  readonly split?: SplitAttachment;
  /** The launcher's shell wraps the program (cgroup, rlimits, user): exit 125 can be its failure. */
  readonly launcherWrapped?: boolean;
}

/**
 * After the exit, the bound on waiting for split to take what the child wrote last and for the
 * follower to read it (proved, not guessed: see split-drain.ts). Reached only when something else
 * (a grandchild) keeps writing, or the kernel hides where split sleeps.
 */
const FOLLOW_GRACE_MS = 1_000;

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
  private pipesOpen = 0;
  /** The last stderr line, to explain a launcher failure (exit 125 with `hsu-launch: ...`). */
  private lastErrLine = '';
  private readonly finishers: (() => void)[] = [];
  private drainTimer: NodeJS.Timeout | undefined;
  /** The kernel's OOM kills of the worker's cgroup when this instance started: a rise explains a SIGKILL. */
  private readonly oomKillsAtStart: number;

  constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    private readonly options: ProcessInstanceOptions,
  ) {
    this.exited = new Promise((resolve) => (this.settle = resolve));
    // Resources are released once the cgroup (if any) is empty too: a daemon that escaped the group dies with the worker.
    this.released = this.exited.then(async () => {
      await options.cgroup?.kill().catch(() => undefined);
    });
    this.termination = new Termination({ graceful: (signal) => this.signal(signal), force: () => this.signal('SIGKILL') }, this.exited);
    this.oomKillsAtStart = options.cgroup?.readStats().oom_kills ?? 0;
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
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8').trimEnd();
      const last = text.slice(text.lastIndexOf('\n') + 1);
      if (last !== '') this.lastErrLine = last.slice(0, 500);
    });
    child.on('error', (err) => options.logger.debug({ err, pid }, 'child process error'));
    child.once('exit', (code, signal) => this.onExit(code, signal));
    // Last: outside bookkeeping must never run before the exit listener is in place.
    options.tracker?.add(options.workerId, pid, options.facts);
  }

  get cgroup(): WorkerCgroup | undefined {
    return this.options.cgroup;
  }

  get enforcement(): EnforcementReport | undefined {
    return this.options.enforcement;
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
    return {
      pid: this.pid,
      pgid: this.pid,
      executable_path: this.options.executablePath,
      cgroup: this.options.cgroup?.name ?? null,
      ...(this.options.assigned === undefined ? {} : { port: this.options.assigned.port, host: this.options.assigned.host }),
    };
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.exitSeen) signalWorker(this.pid, this.options.cgroup, this.known, signal);
  }

  private onExit(exitCode: number | null, signal: NodeJS.Signals | null): void {
    this.exitSeen = true;
    // Right away, while the pgid cannot have been recycled: no grandchild outlives its worker.
    finishWorker(this.pid, this.known);
    this.options.groups?.delete(this.pid);
    this.options.tracker?.remove(this.pid);
    const requested = this.termination.requested;
    const error = requested || exitCode === 0 ? undefined : this.crashError(exitCode, signal);
    const exitInfo: ExitInfo = { requested, exitCode, signal, forced: this.termination.forced !== undefined, at: Date.now(), ...(error && { error }) };
    const split = this.options.split;
    if (split !== undefined) {
      // What it wrote last is on disk already; the follower gets a moment to read it for the master log.
      void split.exited(FOLLOW_GRACE_MS).then(() => {
        this.exitInfo = exitInfo;
        this.maybeSettle();
      });
      return;
    }
    this.exitInfo = exitInfo;
    this.maybeSettle();
    if (this.pipesOpen === 0) return;
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
    const bare = (error: Error): SerializedError => {
      // The stack would be the master's exit handler: noise, not information.
      const { stack: _stack, ...serialized } = serializeError(error);
      return serialized;
    };
    if (exitCode === LAUNCH_FAILED_EXIT && (this.lastErrLine.startsWith('hsu-launch:') || (this.options.split !== undefined && this.options.launcherWrapped === true))) {
      // The launcher could not set the process up (cgroup, rlimits, user): a start failure, not the program's crash.
      const said = this.lastErrLine.startsWith('hsu-launch:') ? this.lastErrLine : "the launcher could not set the process up (cgroup, rlimits, user or umask); its reason is in the worker's stderr log";
      return bare(hsuError('SPAWN_FAILED', `worker '${worker_id}': ${said}`, { worker_id, pid: this.pid, exit_code: exitCode }));
    }
    const oomKills = signal === 'SIGKILL' ? (this.options.cgroup?.readStats().oom_kills ?? 0) : 0;
    if (oomKills > this.oomKillsAtStart) {
      // The kernel ended it at the memory limit of its cgroup: a limit, not a crash of its own.
      return bare(hsuError('LIMIT_EXCEEDED', `worker '${worker_id}': killed by the kernel at the memory limit of its cgroup ${this.options.cgroup?.name ?? ''}`, { worker_id, pid: this.pid, limit: 'memory', enforced_by: 'kernel', oom_kills: oomKills }));
    }
    const message = signal !== null ? `process killed by ${signal}` : `process exited with code ${exitCode}`;
    const err = hsuError('WORKER_CRASHED', message, { worker_id, pid: this.pid, exit_code: exitCode, signal });
    // The stack would be the master's exit handler: noise, not information.
    const { stack: _stack, ...serialized } = serializeError(err);
    return serialized;
  }
}
