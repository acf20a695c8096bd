// Public face of the OS facts: /proc, process identity, tree signalling, executable lookup,
// the state directory's lock and pid registry, the process groups a master owns; and the toolkit:
// cgroups, the launcher, the /proc sampler, discovery, exit watch.
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
export type { ClaimReport, OrphanRecord, ProcessFacts } from './pid-registry.js';
export { ProcessGroups } from './process-groups.js';
export { StateLock } from './state-lock.js';
export type { LockResult } from './state-lock.js';

export * from './cgroups/index.js';
export { describeProcess, discover, discoverByCommandLine, discoverByName, discoverByPidFile, discoverByPort } from './discovery.js';
export type { DiscoveredProcess, DiscoveryResult, DiscoverySpec } from './discovery.js';
export { OS_ERROR_CODES } from './error-codes.js';
export { ExitPoller, watchExit } from './exit-watch.js';
export type { ExitInfo, ExitWatchOptions } from './exit-watch.js';
export { LAUNCH_FAILED_EXIT, planLaunch } from './launcher.js';
export type { LaunchOptions, LaunchPlan, LaunchSpec, RlimitBound, Rlimits, RlimitValue } from './launcher.js';
export { listeningSockets, parseTcpTable } from './proc-net.js';
export type { ListeningSocket } from './proc-net.js';
export { ProcSampler } from './proc-sampler.js';
export type { ResourceSample, SampledCgroup, SamplerOptions, WatchOptions } from './proc-sampler.js';
export { identityOf, isSame, parseStatFields, readStat, scanAll } from './proc-stat.js';
export type { Identity, StatFields } from './proc-stat.js';
export { resolveGroup, resolveUser } from './users.js';
export type { GroupEntry, UserEntry } from './users.js';
