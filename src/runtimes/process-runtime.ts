/**
 * Runtime for process workers: one OS process per instance, in its own process group, with its
 * output split into lines, appended to per-worker log files and republished to the master log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { hsuError, serializeError, type SerializedError } from '../errors.js';
import { signalIdentities, signalQuietly, signalTree } from '../process/kill-tree.js';
import { CpuSampler, isAlive, readRssBytes, type ProcessIdentity } from '../process/proc.js';
import { which, type ResolvedExecutable } from '../process/which.js';
import { OutputCapture, type OutputStream } from './output-capture.js';
import type { ExitInfo, Instance, LaunchContext, Runtime, StopRequest } from './types.js';

export type { OutputStream } from './output-capture.js';

export interface ProcessTracker {
  add(workerId: string, pid: number): void;
  remove(pid: number): void;
}

export interface ProcessRuntimeOptions {
  readonly workerId: string;
  readonly executablePath: string;
  readonly args?: readonly string[];
  readonly environment?: Readonly<Record<string, string>>;
  /** Start from the master's environment and overlay `environment` (default true). */
  readonly inheritEnvironment?: boolean;
  /** Defaults to the master's cwd. */
  readonly workingDirectory?: string;
  /** Receives `<workerId>.out.log` and `<workerId>.err.log`; created if missing. */
  readonly logDir: string;
  /** Every output line, for the master to republish. */
  readonly onLine?: (stream: OutputStream, line: string, pid: number | undefined) => void;
  /** Told of every spawn and exit, so a later master can reap what a killed one left (PidRegistry). */
  readonly tracker?: ProcessTracker;
  /** Open an IPC channel (structured-clone serialization) as fd 3: used by the module host. */
  readonly ipc?: boolean;
  /** Extra node flags placed before `args` (e.g. --max-old-space-size for hosted modules). */
  readonly execArgv?: readonly string[];
}

/** How long after 'exit' we wait for stdio to drain: a pipe held open by an orphan must not hang us. */
const STDIO_GRACE_MS = 100;

/** Live process groups by pgid, so the master can take them all down if it dies unexpectedly. */
const liveGroups = new Map<number, ProcessInstance>();

/** SIGKILLs every live process group this module spawned. Synchronous: safe in a process 'exit' handler. */
export function killAllProcessGroupsSync(): void {
  for (const pgid of liveGroups.keys()) signalQuietly(-pgid, 'SIGKILL');
  liveGroups.clear();
}

export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;
  private readonly output: OutputCapture;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.output = new OutputCapture({ workerId: options.workerId, logDir: options.logDir, ...(options.onLine ? { onLine: options.onLine } : {}) });
  }

  describe(): Record<string, unknown> {
    const { cwd, executable } = this.resolve();
    return { executable_path: executable.path, executable_exists: executable.exists, working_directory: cwd };
  }

  async launch(ctx: LaunchContext): Promise<Instance> {
    const { env, cwd, executable } = this.resolve();
    this.validate(cwd, executable);
    if (ctx.signal.aborted) throw abortError(ctx.signal, this.options.workerId);
    this.output.open(ctx.logger);
    const args = [...(this.options.execArgv ?? []), ...(this.options.args ?? [])];
    let child: ChildProcess;
    try {
      // detached: the child calls setsid(), so pgid === pid and the whole group can be signalled.
      child = spawn(executable.path, args, {
        cwd,
        env,
        detached: true,
        stdio: this.options.ipc === true ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
        ...(this.options.ipc === true ? { serialization: 'advanced' as const } : {}),
      });
    } catch (err) {
      throw this.spawnFailed(executable.path, err);
    }
    if (child.pid === undefined) {
      const cause = await new Promise<unknown>((resolve) => child.once('error', resolve));
      throw this.spawnFailed(executable.path, cause);
    }
    // Built before 'spawn' fires so no output or exit can be missed.
    const instance = new ProcessInstance(child, child.pid, executable.path, this.options, ctx.logger, this.output);
    await new Promise((resolve) => child.once('spawn', resolve));
    if (ctx.signal.aborted) {
      await instance.stop({ timeoutMs: 0, signal: 'SIGKILL', force: true });
      throw abortError(ctx.signal, this.options.workerId);
    }
    return instance;
  }

  /** Ends the log files. Call when the worker is removed; a later launch reopens them. */
  close(): Promise<void> {
    return this.output.close();
  }

  private resolve(): { env: NodeJS.ProcessEnv; cwd: string; executable: ResolvedExecutable } {
    const o = this.options;
    const env: NodeJS.ProcessEnv = o.inheritEnvironment === false ? { ...o.environment } : { ...process.env, ...o.environment };
    const cwd = path.resolve(o.workingDirectory ?? process.cwd());
    // We spawn the resolved absolute path, so a child env without PATH still finds its executable.
    return { env, cwd, executable: which(o.executablePath, { pathEnv: env.PATH ?? process.env.PATH, cwd }) };
  }

  private validate(cwd: string, executable: ResolvedExecutable): void {
    const worker_id = this.options.workerId;
    let cwdIsDir = false;
    try {
      cwdIsDir = statSync(cwd).isDirectory();
    } catch {
      // missing: reported below
    }
    if (!cwdIsDir) {
      throw hsuError('WORKING_DIRECTORY_NOT_FOUND', `worker '${worker_id}': working directory ${cwd} does not exist or is not a directory`, { worker_id, working_directory: cwd });
    }
    if (!executable.exists) {
      throw hsuError('EXECUTABLE_NOT_FOUND', `worker '${worker_id}': executable ${this.options.executablePath} not found`, { worker_id, executable_path: executable.path });
    }
    if (!executable.executable) {
      throw hsuError('EXECUTABLE_NOT_EXECUTABLE', `worker '${worker_id}': ${executable.path} is not an executable file`, { worker_id, executable_path: executable.path });
    }
  }

  private spawnFailed(file: string, cause: unknown): Error {
    const worker_id = this.options.workerId;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return hsuError('SPAWN_FAILED', `worker '${worker_id}': could not spawn ${file}: ${reason}`, { worker_id, executable_path: file }, cause);
  }
}

function abortError(signal: AbortSignal, worker_id: string): Error {
  if (signal.reason instanceof Error) return signal.reason;
  return hsuError('START_FAILED', `worker '${worker_id}': launch aborted`, { worker_id });
}

class ProcessInstance implements Instance {
  readonly exited: Promise<ExitInfo>;
  private settle!: (info: ExitInfo) => void;
  private exitSeen = false;
  private requested = false;
  private stopping = false;
  private forced = false;
  private killTimer: NodeJS.Timeout | undefined;
  /** Set at 'exit'; `exited` settles with it once both pipes are done. */
  private exitInfo: ExitInfo | undefined;
  /** Descendants seen when signalling; they may have left the group, so we finish them by identity. */
  private readonly known = new Map<number, ProcessIdentity>();
  private readonly cpu: CpuSampler;
  private pipesOpen = 0;
  private readonly finishers: (() => void)[] = [];

  constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    private readonly executablePath: string,
    private readonly options: ProcessRuntimeOptions,
    logger: Logger,
    output: OutputCapture,
  ) {
    this.exited = new Promise((resolve) => (this.settle = resolve));
    this.cpu = new CpuSampler(pid);
    liveGroups.set(pid, this);
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = name === 'stdout' ? child.stdout : child.stderr;
      if (stream === null) continue;
      this.pipesOpen += 1;
      const { done, finish } = output.attach(stream, name, pid, logger);
      this.finishers.push(finish);
      void done.then(() => {
        this.pipesOpen -= 1;
        this.maybeSettle();
      });
    }
    child.on('error', (err) => logger.debug({ err, pid }, 'child process error'));
    child.once('exit', (code, signal) => this.onExit(code, signal));
    // Last: outside bookkeeping must never run before the exit listener is in place.
    options.tracker?.add(options.workerId, pid);
  }

  stop(request: StopRequest): Promise<void> {
    if (!this.exitSeen) {
      this.requested = true;
      if (request.force) {
        this.signal('SIGKILL', true);
      } else if (!this.stopping) {
        this.stopping = true;
        this.signal(request.signal);
        this.killTimer = setTimeout(() => this.signal('SIGKILL', true), Math.max(0, request.timeoutMs));
      }
    }
    return this.exited.then(() => undefined);
  }

  health(): Promise<boolean> {
    return Promise.resolve(!this.exitSeen && isAlive(this.pid));
  }

  endpoint(): undefined {
    return undefined;
  }

  diagnostics(): Record<string, unknown> {
    const alive = !this.exitSeen;
    return {
      pid: this.pid,
      pgid: this.pid,
      executable_path: this.executablePath,
      resource_usage: {
        rss_bytes: alive ? (readRssBytes(this.pid) ?? null) : null,
        cpu_percent: alive ? (this.cpu.sample() ?? null) : null,
      },
    };
  }

  private signal(signal: NodeJS.Signals, forced = false): void {
    if (this.exitSeen) return;
    if (forced) this.forced = true;
    for (const id of signalTree(this.pid, this.pid, signal)) this.known.set(id.pid, id);
  }

  private onExit(exitCode: number | null, signal: NodeJS.Signals | null): void {
    this.exitSeen = true;
    clearTimeout(this.killTimer);
    // Right away, while the pgid cannot have been recycled: no grandchild outlives its worker.
    signalQuietly(-this.pid, 'SIGKILL');
    signalIdentities(this.known.values(), 'SIGKILL');
    if (liveGroups.get(this.pid) === this) liveGroups.delete(this.pid);
    this.options.tracker?.remove(this.pid);
    const error = this.requested || exitCode === 0 ? undefined : this.crashError(exitCode, signal);
    this.exitInfo = { requested: this.requested, exitCode, signal, forced: this.forced, at: Date.now(), ...(error && { error }) };
    this.maybeSettle();
    // Output still draining is worth a moment, an orphan holding the pipe open is not.
    setTimeout(() => {
      for (const finish of this.finishers) finish();
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
    }, STDIO_GRACE_MS);
  }

  private maybeSettle(): void {
    if (this.exitInfo !== undefined && this.pipesOpen === 0) this.settle(this.exitInfo);
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
