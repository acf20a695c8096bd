/**
 * One attached unmanaged process. It is not our child: its exit is seen by watching its identity
 * (pid + start time, polled every 100 ms: Node cannot reach pidfd), and its exit status is not
 * ours to see. A stop signals it only when the config allows; otherwise, or at a shutdown that
 * leaves it running, the master just lets go of it (detach).
 */
import type { Logger } from 'pino';
import { hsuError, serializeError } from '../../errors.js';
import type { UnmanagedConfig } from '../../config/index.js';
import type { ExitInfo, Instance, StopRequest } from '../../lifecycle/runtime.js';
import type { DiscoveredProcess, DiscoverySpec } from '../../os/discovery.js';
import { watchExit } from '../../os/exit-watch.js';
import { signalQuietly } from '../../os/kill-tree.js';
import { isSameProcess } from '../../os/proc.js';
import type { WorkerEndpoint } from '../../worker/contract.js';
import { Termination } from '../terminate.js';

export class UnmanagedInstance implements Instance {
  readonly exited: Promise<ExitInfo>;
  readonly released: Promise<void>;
  private resolveExit!: (exit: ExitInfo) => void;
  private readonly termination: Termination;
  private readonly unwatch: () => void;
  private detached = false;

  constructor(
    private readonly workerId: string,
    private readonly process: DiscoveredProcess,
    private readonly spec: DiscoverySpec,
    private readonly config: UnmanagedConfig,
    logger: Logger,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.released = this.exited.then(() => undefined);
    this.termination = new Termination({ graceful: (signal) => signalQuietly(this.pid, signal), force: () => signalQuietly(this.pid, 'SIGKILL') }, this.exited);
    this.unwatch = watchExit(process, (info) => this.ended(info.reason));
    logger.info({ pid: process.pid, comm: process.comm, discovery: spec }, 'attached to an unmanaged process');
  }

  get pid(): number {
    return this.process.pid;
  }

  get port(): number | undefined {
    return 'port' in this.spec ? this.spec.port : undefined;
  }

  stop(request: StopRequest): Promise<void> {
    // Shutting down: leave it running unless told otherwise. Not allowed to stop it: only let go.
    if (!this.config.allow_stop || (request.detach === true && !this.config.stop_on_shutdown)) this.detach();
    else this.termination.request(request);
    return this.released;
  }

  health(): Promise<boolean> {
    return Promise.resolve(isSameProcess(this.process));
  }

  endpoint(): WorkerEndpoint | undefined {
    const port = this.port;
    return port === undefined ? undefined : { type: 'url', address: `http://127.0.0.1:${port}`, metadata: { port } };
  }

  diagnostics(): Readonly<Record<string, unknown>> {
    return { pid: this.pid, comm: this.process.comm, cmdline: this.process.cmdline, started_at: new Date(this.process.started_at).toISOString(), attached: !this.detached };
  }

  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.unwatch();
    this.resolveExit({ requested: true, exitCode: null, signal: null, forced: false, at: Date.now() });
  }

  private ended(reason: string): void {
    if (this.detached) return;
    const requested = this.termination.requested;
    const error = requested
      ? undefined
      : (() => {
          const { stack: _s, ...e } = serializeError(hsuError('WORKER_CRASHED', `worker '${this.workerId}': the unmanaged process ${this.pid} ended (${reason}); its exit status is not ours to see`, { worker_id: this.workerId, pid: this.pid, reason }));
          return e;
        })();
    this.resolveExit({ requested, exitCode: null, signal: null, forced: this.termination.forced !== undefined, at: Date.now(), ...(error === undefined ? {} : { error }) });
  }
}
