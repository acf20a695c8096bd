/** The shapes every cgroup implementation (v1, v2) shares. snake_case: they reach diagnostics. */
import type { ControlReader } from './control-files.js';

export type CgroupVersion = 'v1' | 'v2';

/** Hard limits the kernel enforces. cpu_percent is a percent of one core (200 = two cores). */
export interface CgroupLimits {
  readonly memory_bytes?: number;
  readonly cpu_percent?: number;
  readonly pids_max?: number;
}

/** Which limits the kernel now enforces, and which it could not because the controller is absent. */
export interface AppliedLimits {
  readonly applied: readonly (keyof CgroupLimits)[];
  readonly unavailable: readonly (keyof CgroupLimits)[];
}

export interface CgroupStats {
  readonly memory_bytes?: number;
  readonly memory_peak_bytes?: number;
  readonly cpu_usage_usec?: number;
  /** Processes the kernel OOM killer killed in this group (v2 memory.events, v1 memory.oom_control). */
  readonly oom_kills?: number;
  /** v1 only: times the memory limit was hit (memory.failcnt). */
  readonly memory_failcnt?: number;
  readonly pids?: number;
}

/** The two figures the sampler reads every tick (cheaper than summing every process's RSS). */
export interface CgroupUsage {
  readonly memory_bytes?: number;
  readonly cpu_usage_usec?: number;
}

export interface KillReport {
  /** cgroup.kill (v2, one write), freeze-kill (freeze, SIGKILL each, thaw) or signal (no freezer). */
  readonly method: 'cgroup.kill' | 'freeze-kill' | 'signal';
  readonly rounds: number;
  /** Distinct pids that were members when a round began. */
  readonly killed: number;
}

export interface WorkerCgroup {
  readonly version: CgroupVersion;
  /** Directory name: prefix.instance.worker_id (the same under every v1 controller). */
  readonly name: string;
  /** Every directory of the group (one for v2, one per controller mount for v1). */
  readonly dirs: readonly string[];
  /** cgroup.procs files a launcher writes its own pid into before exec. */
  readonly procsFiles: readonly string[];
  /** v2's cgroup.events (populated 0|1), watchable for an exit without polling; absent on v1. */
  readonly eventsFile?: string;
  setLimits(limits: CgroupLimits): AppliedLimits;
  addPid(pid: number): void;
  /** `read` fetches a control file's text (the sampler passes its kept descriptors); v1 ignores it for cgroup.procs. */
  pids(read?: ControlReader): number[];
  readUsage(read?: ControlReader): CgroupUsage;
  readStats(): CgroupStats;
  /** Kills every member, including ones that left the process group; resolves once empty. */
  kill(timeoutMs?: number): Promise<KillReport>;
  /** Kills what is left, then removes the directories. */
  remove(): Promise<void>;
}
