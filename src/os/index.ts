// Public face of the OS facts: /proc, process identity, tree signalling, executable lookup,
// the state directory's lock and pid registry, and the process groups a master owns.
export {
  CLOCK_TICKS_PER_SECOND,
  CpuSampler,
  isAlive,
  isSameProcess,
  listAllProcesses,
  listDescendantStats,
  listDescendants,
  listProcessGroup,
  parseProcStat,
  processIdentity,
  readProcStat,
  readRssBytes,
} from './proc.js';
export type { ProcStat, ProcessIdentity } from './proc.js';
export { signalIdentities, signalQuietly, signalTree, waitForGone } from './kill-tree.js';
export { which } from './which.js';
export type { ResolvedExecutable, WhichOptions } from './which.js';
export { PidRegistry } from './pid-registry.js';
export type { ReapReport } from './pid-registry.js';
export { ProcessGroups } from './process-groups.js';
export { StateLock } from './state-lock.js';
export type { LockResult } from './state-lock.js';
