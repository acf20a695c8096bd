// Public face of cgroups: detection, the per-master manager, and a worker's group.
export { detectCgroups } from './detect.js';
export type { CgroupSupport, DetectOptions, EnforcementMode } from './detect.js';
export { CgroupManager } from './manager.js';
export type { CgroupAttempt, CgroupManagerOptions, GroupInfo, SweepReport } from './manager.js';
export { parseMounts, readMounts } from './mounts.js';
export type { CgroupMounts } from './mounts.js';
export { defaultInstanceTag, parseGroupName } from './naming.js';
export type { AppliedLimits, CgroupLimits, CgroupStats, CgroupUsage, CgroupVersion, KillReport, WorkerCgroup } from './types.js';
export type { ControlReader } from './control-files.js';
