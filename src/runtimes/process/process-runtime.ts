/**
 * Runtime for process workers: one OS process per instance, in its own process group, with its
 * output appended to per-worker log files and copied to the master log within a budget.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { deserializeError, hsuError } from '../../errors.js';
import type { Instance, LaunchContext, Runtime, RuntimeCapabilities, RuntimeDetails } from '../../lifecycle/runtime.js';
import type { CgroupManager } from '../../os/cgroups/index.js';
import { planLaunch, type Rlimits } from '../../os/launcher.js';
import type { OrphanRecord, ProcessFacts } from '../../os/pid-registry.js';
import { AdoptedProcessInstance } from './adopted-instance.js';
import type { ProcessGroups } from '../../os/process-groups.js';
import { which, type ResolvedExecutable } from '../../os/which.js';
import { enforcementFor, kernelLimitsFor } from '../../limits/enforcement.js';
import type { Limits } from '../../limits/schema.js';
import { OutputCapture, type OutputStream } from '../output/index.js';
import type { LogSettings } from '../output/logs-config.js';
import { assignPort, fillArgs, type Assigned, type IntegrationOptions } from './integration.js';
import { ProcessInstance } from './process-instance.js';
import type { WorkerCgroup } from '../../os/cgroups/index.js';
import type { EnforcementReport } from '../../limits/enforcement.js';

export interface ProcessTracker {
  add(workerId: string, pid: number, facts?: ProcessFacts): void;
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
  /** Every copied output line, for the master to republish. */
  readonly onLine?: (stream: OutputStream, line: string, pid: number | undefined) => void;
  /** Told of every spawn and exit, so a later master can reap what a killed one left (PidRegistry). */
  readonly tracker?: ProcessTracker;
  /** The master's live process groups, for its last-resort hook. */
  readonly groups?: ProcessGroups;
  /** Open an IPC channel (structured-clone serialization) as fd 3: used by the module host. */
  readonly ipc?: boolean;
  /** Extra node flags placed before `args` (e.g. --max-old-space-size for hosted modules). */
  readonly execArgv?: readonly string[];
  /** `management: integrated`: a port handed to the child by environment variable and `{port}` in args. */
  readonly integration?: IntegrationOptions;
  /** The child announces readiness with process.send('ready') (PM2's wait_ready); implies an IPC channel. */
  readonly waitReady?: boolean;
  /** The master's cgroups: each instance runs in the worker's own group (kernel limits, kill reaches every member). */
  readonly cgroups?: CgroupManager;
  /** Enforced limits; the memory one also becomes a kernel limit on the worker's cgroup. */
  readonly limits?: Limits;
  /** Applied before exec by the launcher. */
  readonly launch?: { readonly user?: string | number; readonly group?: string | number; readonly umask?: string | number; readonly rlimits?: Rlimits };
  /** Set when a later master may adopt this worker's processes: the hash of the config they were started from. */
  readonly adoption?: { readonly hash: string };
  /** The worker's `logs:` block, resolved. */
  readonly logs?: LogSettings;
}

/** What a child sends when it is ready: the string 'ready', or `{ type: 'ready' }` / `{ ready: true }`. */
function isReadyMessage(message: unknown): boolean {
  if (message === 'ready') return true;
  const m = message as { type?: unknown; ready?: unknown } | null;
  return typeof m === 'object' && m !== null && (m.type === 'ready' || m.ready === true);
}

const CAPABILITIES: RuntimeCapabilities = { stoppable: true, callable: false };

export class ProcessRuntime implements Runtime {
  readonly kind = 'process';
  readonly capabilities = CAPABILITIES;
  private readonly output: OutputCapture;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.output = new OutputCapture({
      workerId: options.workerId,
      logDir: options.logDir,
      ...(options.onLine ? { onLine: options.onLine } : {}),
      ...(options.logs === undefined ? {} : { logs: options.logs }),
    });
  }

  describe(): RuntimeDetails {
    const { cwd, executable } = this.resolve();
    return {
      kind: 'process',
      management: this.options.integration === undefined ? 'managed' : 'integrated',
      executable_path: executable.path,
      executable_exists: executable.exists,
      working_directory: cwd,
      output: this.output.stats(),
    };
  }

  async launch(ctx: LaunchContext): Promise<ProcessInstance> {
    const { env, cwd, executable } = this.resolve();
    this.validate(cwd, executable);
    if (ctx.signal.aborted) throw abortError(ctx.signal, this.options.workerId);
    this.output.open(ctx.logger);
    let assigned: Assigned | undefined;
    let args = [...(this.options.execArgv ?? []), ...(this.options.args ?? [])];
    if (this.options.integration !== undefined) {
      assigned = await assignPort(this.options.workerId, this.options.integration);
      env[this.options.integration.portEnv] = String(assigned.port);
      args = fillArgs(args, assigned);
    }
    const ipc = this.options.ipc === true || this.options.waitReady === true;
    const { cgroup, enforcement } = await this.cgroupFor();
    // The child writes into split (GNU coreutils), which writes the files: its output outlives a crash
    // of the master, so it can be adopted. A hosted module's IPC channel dies with the master anyway: pipes.
    const split = this.options.ipc === true ? null : await this.output.attachSplit(ctx.logger);
    const stdio = split === null ? (['ignore', 'pipe', 'pipe'] as const) : (['ignore', split.stdout, split.stderr] as const);
    // The launcher joins the cgroup and applies user, umask and rlimits before the program's first instruction.
    const plan = planLaunch({
      file: executable.path,
      args,
      ...(cgroup === undefined ? {} : { cgroupProcsFiles: cgroup.procsFiles }),
      ...(this.options.launch ?? {}),
    });
    let child: ChildProcess;
    try {
      // detached: the child calls setsid(), so pgid === pid and the whole group can be signalled.
      child = spawn(plan.file, [...plan.args], {
        cwd,
        env: { ...env, ...plan.env },
        ...(plan.uid === undefined ? {} : { uid: plan.uid }),
        ...(plan.gid === undefined ? {} : { gid: plan.gid }),
        detached: true,
        stdio: ipc ? [...stdio, 'ipc'] : [...stdio],
        ...(this.options.ipc === true ? { serialization: 'advanced' as const } : {}),
      });
    } catch (err) {
      throw this.spawnFailed(executable.path, err);
    }
    if (child.pid === undefined) {
      const cause = await new Promise<unknown>((resolve) => child.once('error', resolve));
      throw this.spawnFailed(executable.path, cause);
    }
    // Lines read from the files from now on are this instance's.
    split?.started(child.pid);
    // Built before 'spawn' fires so no output or exit can be missed.
    const instance = new ProcessInstance(child, child.pid, {
      workerId: this.options.workerId,
      executablePath: executable.path,
      logger: ctx.logger,
      output: this.output,
      ...(assigned === undefined ? {} : { assigned }),
      // The journal names every group (a later master sweeps what a crash left); the hash only where adoption is allowed.
      facts: { ...(this.options.adoption === undefined ? {} : { hash: this.options.adoption.hash }), ...(cgroup === undefined ? {} : { cgroup: cgroup.name }), ...(assigned ?? {}) },
      ...(cgroup === undefined ? {} : { cgroup }),
      ...(enforcement === undefined ? {} : { enforcement }),
      ...(this.options.tracker === undefined ? {} : { tracker: this.options.tracker }),
      ...(this.options.groups === undefined ? {} : { groups: this.options.groups }),
      ...(split === null ? {} : { split }),
      launcherWrapped: plan.wrapped,
    });
    await new Promise((resolve) => child.once('spawn', resolve));
    if (!ctx.signal.aborted && this.options.waitReady === true) await this.readyMessage(instance, ctx.signal);
    if (ctx.signal.aborted) {
      await instance.stop({ graceMs: 0, signal: 'SIGKILL', force: true, cause: 'requested' });
      throw abortError(ctx.signal, this.options.workerId);
    }
    return instance;
  }

  /** Resolves when the child said 'ready', or when the start is given up on (the caller then ends it). */
  private async readyMessage(instance: ProcessInstance, signal: AbortSignal): Promise<void> {
    const child = instance.child;
    let listener: ((message: unknown) => void) | undefined;
    let onAbort: (() => void) | undefined;
    const ended = instance.exited.then((exit) => {
      throw exit.error === undefined
        ? hsuError('START_FAILED', `worker '${this.options.workerId}' exited before it sent 'ready' (${exit.signal ?? `code ${exit.exitCode}`})`, { worker_id: this.options.workerId })
        : deserializeError(exit.error);
    });
    try {
      await Promise.race([
        ended,
        new Promise<void>((resolve) => {
          listener = (message) => {
            if (isReadyMessage(message)) resolve();
          };
          child.on('message', listener);
          onAbort = resolve;
          signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
    } finally {
      if (listener !== undefined) child.off('message', listener);
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Supervises again a process a dead master left running (same pid): its cgroup is reopened by
   * name, its exit watched by identity. Rejects when it has meanwhile ended.
   */
  async adopt(orphan: OrphanRecord, ctx: LaunchContext): Promise<Instance> {
    const cgroup = orphan.cgroup === undefined ? undefined : this.options.cgroups?.open(orphan.cgroup);
    this.output.open(ctx.logger);
    // Its split still writes the files; we follow them from where they are.
    const output = await this.output.adopt(orphan.pid, ctx.logger);
    if (cgroup !== undefined) this.group = cgroup;
    this.options.tracker?.add(this.options.workerId, orphan.pid, { ...(orphan.hash === undefined ? {} : { hash: orphan.hash }), ...(orphan.cgroup === undefined ? {} : { cgroup: orphan.cgroup }), ...(orphan.port === undefined ? {} : { port: orphan.port }) });
    return new AdoptedProcessInstance(orphan, {
        workerId: this.options.workerId,
        logger: ctx.logger,
        output,
        ...(cgroup === undefined ? {} : { cgroup }),
        ...(this.options.tracker === undefined ? {} : { tracker: this.options.tracker }),
        ...(this.options.groups === undefined ? {} : { groups: this.options.groups }),
        ...(this.options.limits === undefined ? {} : { enforcement: enforcementFor(this.options.limits, cgroup === undefined ? 'poll' : (this.options.cgroups?.enforcement ?? 'poll'), cgroup === undefined ? 'adopted without its cgroup' : 'adopted with its cgroup') }),
      });
  }

  /** Ends the log files and removes the worker's cgroup. Call when the worker is removed; a later launch reopens them. */
  async close(): Promise<void> {
    await this.output.close();
    const group = this.group;
    this.group = undefined;
    await group?.remove().catch(() => undefined);
  }

  private group: WorkerCgroup | undefined;

  /** The worker's cgroup (made once, emptied and reused by each launch), or the reason there is none. */
  private async cgroupFor(): Promise<{ cgroup?: WorkerCgroup; enforcement?: EnforcementReport }> {
    const manager = this.options.cgroups;
    const limits = this.options.limits ?? {};
    if (manager === undefined) return this.options.limits === undefined ? {} : { enforcement: enforcementFor(limits, 'poll', 'cgroups are off for this master') };
    const attempt = await manager.tryCreate(this.options.workerId);
    if (attempt.cgroup === undefined) return { enforcement: enforcementFor(limits, 'poll', attempt.reason) };
    // An adopted instance ran in its dead master's group; now that one is done with, it goes.
    const previous = this.group;
    if (previous !== undefined && previous.name !== attempt.cgroup.name) await previous.remove().catch(() => undefined);
    this.group = attempt.cgroup;
    const wanted = kernelLimitsFor(limits);
    const applied = attempt.cgroup.setLimits(wanted);
    return { cgroup: attempt.cgroup, enforcement: enforcementFor(limits, attempt.enforcement, attempt.reason, applied, wanted) };
  }

  private resolve(): { env: NodeJS.ProcessEnv; cwd: string; executable: ResolvedExecutable } {
    const o = this.options;
    const env: NodeJS.ProcessEnv = o.inheritEnvironment === false ? { ...o.environment } : { ...process.env, ...o.environment };
    const cwd = path.resolve(o.workingDirectory ?? process.cwd());
    // We spawn the resolved absolute path, so a child env without PATH still finds its executable.
    return { env, cwd, executable: which(o.executablePath, { pathEnv: env.PATH ?? process.env.PATH, cwd }) };
  }

  private validate(cwd: string, executable: ResolvedExecutable): void {
    const problem = checkExecution(this.options.workerId, this.options.executablePath, cwd, executable);
    if (problem !== undefined) throw problem;
  }

  private spawnFailed(file: string, cause: unknown): Error {
    const worker_id = this.options.workerId;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return hsuError('SPAWN_FAILED', `worker '${worker_id}': could not spawn ${file}: ${reason}`, { worker_id, executable_path: file }, cause);
  }
}

/** What stops an execution block from starting, checked before spawn and by `hsu validate`. */
export function checkExecution(worker_id: string, executablePath: string, cwd: string, executable: ResolvedExecutable): Error | undefined {
  let cwdIsDir = false;
  try {
    cwdIsDir = statSync(cwd).isDirectory();
  } catch {
    // missing: reported below
  }
  if (!cwdIsDir) {
    return hsuError('WORKING_DIRECTORY_NOT_FOUND', `worker '${worker_id}': working directory ${cwd} does not exist or is not a directory`, { worker_id, working_directory: cwd });
  }
  if (!executable.exists) {
    return hsuError('EXECUTABLE_NOT_FOUND', `worker '${worker_id}': executable ${executablePath} not found`, { worker_id, executable_path: executable.path });
  }
  if (!executable.executable) {
    return hsuError('EXECUTABLE_NOT_EXECUTABLE', `worker '${worker_id}': ${executable.path} is not an executable file`, { worker_id, executable_path: executable.path });
  }
  return undefined;
}

function abortError(signal: AbortSignal, worker_id: string): Error {
  if (signal.reason instanceof Error) return signal.reason;
  return hsuError('START_FAILED', `worker '${worker_id}': launch aborted`, { worker_id });
}
