/**
 * `management: unmanaged`: a process someone else starts. The master attaches to it (by pid file,
 * process name, command-line pattern or listening port), watches its liveness, health and
 * resources, re-attaches when its owner restarts it (the restart policy relaunches = attaches
 * again, waiting up to the start timeout for it to come back), and stops it only when the config
 * allows it. A master shutting down leaves it running unless `stop_on_shutdown` says otherwise.
 */
import { hsuError, type SerializedError } from '../../errors.js';
import type { UnmanagedConfig } from '../../config/index.js';
import type { Instance, LaunchContext, Runtime, RuntimeCapabilities, RuntimeDetails } from '../../lifecycle/runtime.js';
import { discover, type DiscoveredProcess, type DiscoverySpec } from '../../os/discovery.js';
import { UnmanagedInstance } from './unmanaged-instance.js';

export interface UnmanagedRuntimeOptions {
  readonly workerId: string;
  readonly config: UnmanagedConfig;
}

export class UnmanagedRuntime implements Runtime {
  readonly kind = 'unmanaged';
  readonly capabilities: RuntimeCapabilities;
  private readonly spec: DiscoverySpec;
  private lastProblem: SerializedError | undefined;

  constructor(private readonly options: UnmanagedRuntimeOptions) {
    this.capabilities = { stoppable: options.config.allow_stop, callable: false };
    this.spec = specOf(options.config);
  }

  describe(): RuntimeDetails {
    const c = this.options.config;
    return { kind: 'unmanaged', management: 'unmanaged', discovery: this.spec, allow_stop: c.allow_stop, stop_on_shutdown: c.stop_on_shutdown, last_problem: this.lastProblem ?? null };
  }

  /** Attaches: looks for the process every attach_interval until found, or the start is given up on. */
  async launch(ctx: LaunchContext): Promise<Instance> {
    for (;;) {
      const found = discover(this.spec);
      if (found.ok && found.processes.length > 0) {
        this.lastProblem = undefined;
        return new UnmanagedInstance(this.options.workerId, pick(found.processes), this.spec, this.options.config, ctx.logger);
      }
      this.lastProblem = found.ok ? { code: 'HSU_ERR_DISCOVERY_NO_MATCH', message: 'no process matches' } : found.error;
      await pause(this.options.config.attach_interval, ctx.signal);
      if (ctx.signal.aborted) {
        const why = this.lastProblem.message;
        throw hsuError('START_TIMEOUT', `worker '${this.options.workerId}': could not attach: ${why}`, { worker_id: this.options.workerId, discovery: this.spec, problem: this.lastProblem });
      }
    }
  }
}

/** Several matches (a server's master and its workers): the oldest is the one that started the rest. */
function pick(processes: readonly DiscoveredProcess[]): DiscoveredProcess {
  return [...processes].sort((a, b) => a.startTimeTicks - b.startTimeTicks)[0]!;
}

function specOf(config: UnmanagedConfig): DiscoverySpec {
  if (config.pid_file !== undefined) return config.process_name === undefined ? { pid_file: config.pid_file } : { pid_file: config.pid_file, process_name: config.process_name };
  if (config.port !== undefined) return { port: config.port };
  if (config.command_pattern !== undefined) return { command_pattern: config.command_pattern };
  return { process_name: config.process_name ?? '' };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
