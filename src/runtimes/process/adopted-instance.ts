/**
 * A process a dead master left running, supervised again by this one: same pid, its group and
 * cgroup still its own. It is not our child, so its exit is seen by watching its identity (pid +
 * start time; the cgroup's `cgroup.events` on v2), and its exit status is not ours to see: an end
 * we did not ask for counts as a crash and the restart policy decides.
 */
import type { Logger } from 'pino';
import { hsuError, serializeError } from '../../errors.js';
import type { ExitInfo, Instance, StopRequest } from '../../lifecycle/runtime.js';
import type { EnforcementReport } from '../../limits/enforcement.js';
import type { WorkerCgroup } from '../../os/cgroups/index.js';
import { watchExit } from '../../os/exit-watch.js';
import type { OrphanRecord } from '../../os/pid-registry.js';
import type { ProcessGroups } from '../../os/process-groups.js';
import { isSameProcess, type ProcessIdentity } from '../../os/proc.js';
import type { WorkerEndpoint } from '../../worker/contract.js';
import { Termination } from '../terminate.js';
import type { AdoptedOutput } from '../output/output-capture.js';
import type { ProcessTracker } from './process-runtime.js';
import { finishWorker, signalWorker } from './signal-worker.js';

export interface AdoptedOptions {
  readonly workerId: string;
  readonly logger: Logger;
  /** Its output, followed where its split writes it. */
  readonly output?: AdoptedOutput;
  readonly cgroup?: WorkerCgroup;
  readonly enforcement?: EnforcementReport;
  readonly tracker?: ProcessTracker;
  readonly groups?: ProcessGroups;
}

export class AdoptedProcessInstance implements Instance {
  readonly exited: Promise<ExitInfo>;
  readonly released: Promise<void>;
  private resolveExit!: (exit: ExitInfo) => void;
  private readonly termination: Termination;
  private readonly known = new Map<number, ProcessIdentity>();
  private readonly unwatch: () => void;
  private gone = false;

  constructor(
    private readonly orphan: OrphanRecord,
    private readonly options: AdoptedOptions,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.released = this.exited.then(async () => {
      await options.cgroup?.kill().catch(() => undefined);
    });
    this.termination = new Termination({ graceful: (signal) => this.signal(signal), force: () => this.signal('SIGKILL') }, this.exited);
    options.groups?.add(orphan.pid);
    const identity = { pid: orphan.pid, startTimeTicks: orphan.start };
    this.unwatch = watchExit(identity, () => this.onExit(), options.cgroup?.eventsFile === undefined ? {} : { eventsFile: options.cgroup.eventsFile });
    options.logger.info({ pid: orphan.pid, cgroup: options.cgroup?.name ?? null }, 'adopted a process left running by a previous master');
  }

  get pid(): number {
    return this.orphan.pid;
  }

  get port(): number | undefined {
    return this.orphan.port;
  }

  get host(): string | undefined {
    return this.orphan.host;
  }

  get cgroup(): WorkerCgroup | undefined {
    return this.options.cgroup;
  }

  get enforcement(): EnforcementReport | undefined {
    return this.options.enforcement;
  }

  stop(request: StopRequest): Promise<void> {
    if (!this.gone) this.termination.request(request);
    return this.released;
  }

  health(): Promise<boolean> {
    return Promise.resolve(!this.gone && isSameProcess({ pid: this.orphan.pid, startTimeTicks: this.orphan.start }));
  }

  endpoint(): WorkerEndpoint | undefined {
    const { port, host } = this.orphan;
    return port === undefined ? undefined : { type: 'url', address: `http://${host ?? '127.0.0.1'}:${port}`, metadata: { port, host: host ?? '127.0.0.1' } };
  }

  diagnostics(): Readonly<Record<string, unknown>> {
    return { pid: this.pid, pgid: this.pid, adopted: true, cgroup: this.options.cgroup?.name ?? null, ...(this.orphan.port === undefined ? {} : { port: this.orphan.port }) };
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.gone) signalWorker(this.orphan.pid, this.options.cgroup, this.known, signal);
  }

  private onExit(): void {
    if (this.gone) return;
    this.gone = true;
    this.unwatch();
    finishWorker(this.orphan.pid, this.known);
    this.options.groups?.delete(this.orphan.pid);
    this.options.tracker?.remove(this.orphan.pid);
    const requested = this.termination.requested;
    const { stack: _s, ...crash } = serializeError(
      hsuError('WORKER_CRASHED', `worker '${this.options.workerId}': the adopted process ${this.orphan.pid} ended; its exit status is not ours to see (it is not our child)`, { worker_id: this.options.workerId, pid: this.orphan.pid }),
    );
    const exit: ExitInfo = { requested, exitCode: null, signal: null, forced: this.termination.forced !== undefined, at: Date.now(), ...(requested ? {} : { error: crash }) };
    const output = this.options.output;
    if (output === undefined) this.resolveExit(exit);
    else void output.exited().then(() => this.resolveExit(exit));
  }
}
