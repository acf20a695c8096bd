// Public face of the OS-process subsystem: /proc facts, tree signalling, executable lookup.
export {
  CLOCK_TICKS_PER_SECOND,
  CpuSampler,
  isAlive,
  isSameProcess,
  listAllProcesses,
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
