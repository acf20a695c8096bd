/**
 * Which enforcement a worker's limits get: the kernel (a cgroup) where there is one, polling for
 * the rest, and the diagnostics block that says so.
 *
 * Memory: with immediate_kill the kernel limit IS the policy (an OOM kill at max_rss, no
 * sampling delay). With restart or graceful_shutdown the poller acts first at max_rss so the
 * worker gets its graceful stop, and the kernel limit sits `headroom` above as a backstop against a
 * hog that outruns the sampling interval. With log nothing is imposed. CPU limits are a rate judged
 * over a window: a kernel quota would throttle the worker so it never exceeds, which is a different
 * promise than "act when it does", so `limits.cpu` is enforced by polling; a quota is still
 * available through CgroupLimits.cpu_percent for whoever wants throttling. Open files are a per-
 * process rlimit (the launcher's `nofile`) and polled.
 */
import type { AppliedLimits, CgroupLimits, EnforcementMode } from '../os/cgroups/index.js';
import type { LimitKind, Limits } from './schema.js';

/** The kernel backstop for restart / graceful_shutdown: 25 % above max_rss. */
export const DEFAULT_MEMORY_HEADROOM = 0.25;

export function kernelLimitsFor(limits: Limits, headroom = DEFAULT_MEMORY_HEADROOM): CgroupLimits {
  const memory = limits.memory;
  if (memory === undefined || memory.policy === 'log') return {};
  if (memory.policy === 'immediate_kill') return { memory_bytes: memory.max_rss };
  return { memory_bytes: Math.floor(memory.max_rss * (1 + headroom)) };
}

export interface EnforcementReport {
  /** cgroup-v2 / cgroup-v1 when the worker has a group, poll otherwise. */
  readonly enforcement: EnforcementMode;
  /** Limits the kernel enforces for this worker (bytes for memory). */
  readonly kernel: CgroupLimits;
  /** Limits hsu's sampler judges every tick. */
  readonly polled: readonly LimitKind[];
  readonly reason: string;
}

/**
 * The diagnostics block. `mode` is the worker's cgroup attempt (CgroupAttempt.enforcement),
 * `applied` what setLimits reported (a controller may be missing even with a group).
 */
export function enforcementFor(limits: Limits, mode: EnforcementMode, reason: string, applied?: AppliedLimits, wanted: CgroupLimits = kernelLimitsFor(limits)): EnforcementReport {
  const polled = (['memory', 'cpu', 'open_files'] as const).filter((kind) => limits[kind] !== undefined);
  if (mode === 'poll' || applied === undefined) return { enforcement: mode === 'poll' ? 'poll' : mode, kernel: {}, polled, reason };
  const kernel: Record<string, number> = {};
  for (const key of applied.applied) {
    const value = wanted[key];
    if (value !== undefined) kernel[key] = value;
  }
  const missing = applied.unavailable.length === 0 ? '' : `; controller missing for ${applied.unavailable.join(', ')}, polled instead`;
  return { enforcement: mode, kernel, polled, reason: `${reason}${missing}` };
}
