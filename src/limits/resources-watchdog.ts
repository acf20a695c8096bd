/**
 * The resources of one process worker, as a watchdog: the master's ResourceMonitor samples its
 * process tree (or cgroup) each tick; this keeps the latest sample for diagnostics and, when the
 * worker has `limits`, judges every sample (LimitsMonitor) and asks the controller to act with
 * cause `limit`: restart (then the restart policy), graceful_shutdown (stop and stay stopped), or
 * immediate_kill (SIGKILL, then the policy). `log` only logs. Acted on within two sampling intervals.
 */
import type { Instance } from '../lifecycle/runtime.js';
import type { Watchdog, WatchdogAction, WatchdogControl } from '../lifecycle/watchdog.js';
import type { ResourceSample, SampledCgroup } from '../os/proc-sampler.js';
import { identityOf } from '../os/proc-stat.js';
import type { EnforcementReport } from './enforcement.js';
import type { Violation } from './evaluate.js';
import { LimitsMonitor } from './monitor.js';
import type { ResourceMonitor } from './resource-monitor.js';
import type { LimitKind, LimitPolicy, Limits } from './schema.js';

const ACTIONS: Readonly<Record<Exclude<LimitPolicy, 'log'>, WatchdogAction>> = {
  restart: 'restart',
  graceful_shutdown: 'stop',
  immediate_kill: 'kill',
};

/** An instance that runs in a cgroup of its own says so (a process instance with a group). */
export interface CgroupBacked {
  readonly cgroup?: SampledCgroup & { readonly name: string };
  readonly enforcement?: EnforcementReport;
}

export interface ResourcesSnapshot {
  readonly sampled_at: string | null;
  readonly rss_bytes: number | null;
  readonly cpu_percent: number | null;
  readonly open_fds: number | null;
  readonly threads: number | null;
  readonly descendants: number | null;
  readonly cgroup: string | null;
  readonly enforcement: EnforcementReport | null;
  readonly limits: Limits | null;
  readonly breached: readonly LimitKind[];
  readonly last_violation: Violation | null;
}

export class ResourcesWatchdog implements Watchdog {
  readonly name = 'resources';
  private unwatch: (() => void) | undefined;
  private latest: ResourceSample | undefined;
  private readonly monitor: LimitsMonitor | undefined;
  private breached: readonly LimitKind[] = [];
  private lastViolation: Violation | undefined;
  private instance: (Instance & CgroupBacked) | undefined;

  constructor(
    private readonly workerId: string,
    private readonly resources: ResourceMonitor,
    private readonly limits: Limits | undefined,
  ) {
    this.monitor = limits === undefined ? undefined : new LimitsMonitor(limits);
  }

  begin(instance: Instance, control: WatchdogControl): void {
    this.end();
    const pid = instance.pid;
    if (pid === undefined) return;
    const identity = identityOf(pid);
    if (identity === undefined) return; // already gone: its exit is on its way
    this.instance = instance as Instance & CgroupBacked;
    const cwindow = this.limits?.cpu?.window;
    this.unwatch = this.resources.watch(this.workerId, identity, this.instance.cgroup, (sample) => this.onSample(sample, control), cwindow);
  }

  end(): void {
    this.unwatch?.();
    this.unwatch = undefined;
    this.monitor?.reset();
    this.breached = [];
  }

  snapshot(): ResourcesSnapshot {
    const s = this.latest;
    return {
      sampled_at: s === undefined ? null : new Date(s.time).toISOString(),
      rss_bytes: s?.rss_bytes ?? null,
      cpu_percent: s === undefined ? null : Math.round(s.cpu_percent * 10) / 10,
      open_fds: s?.open_fds ?? null,
      threads: s?.threads ?? null,
      descendants: s?.descendants ?? null,
      cgroup: this.instance?.cgroup?.name ?? null,
      enforcement: this.instance?.enforcement ?? null,
      limits: this.limits ?? null,
      breached: this.breached,
      last_violation: this.lastViolation ?? null,
    };
  }

  private onSample(sample: ResourceSample, control: WatchdogControl): void {
    this.latest = sample;
    if (this.monitor === undefined) return;
    const decision = this.monitor.observe(sample);
    this.breached = decision.active;
    for (const violation of decision.violations) {
      this.lastViolation = violation;
      control.logger.warn({ worker: this.workerId, limit: violation.limit, observed: violation.observed, limit_value: violation.limit_value, policy: violation.action }, `limit exceeded: ${violation.reason}`);
    }
    if (decision.action === undefined || decision.action === 'log') return;
    const reason = decision.violations.map((v) => v.reason).join('; ');
    control.request(ACTIONS[decision.action], 'limit', reason);
  }
}
