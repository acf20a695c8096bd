/** Codes of the OS toolkit (cgroups, launcher, discovery). Spread into the one catalogue in src/errors.ts. */
export const OS_ERROR_CODES = {
  // cgroups
  CGROUP_UNAVAILABLE: { status: 500, summary: 'no writable cgroup hierarchy; limits are enforced by polling' },
  CGROUP_CREATE_FAILED: { status: 500, summary: 'a cgroup directory could not be created' },
  CGROUP_WRITE_FAILED: { status: 500, summary: 'a cgroup control file could not be written' },
  CGROUP_CONTROLLER_MISSING: { status: 500, summary: 'the cgroup controller for this limit is not available' },
  CGROUP_KILL_INCOMPLETE: { status: 500, summary: 'processes remained in the cgroup after every kill round' },
  CGROUP_REMOVE_FAILED: { status: 500, summary: 'a cgroup directory could not be removed' },
  // launcher
  LAUNCH_UNKNOWN_USER: { status: 400, summary: 'no such user' },
  LAUNCH_UNKNOWN_GROUP: { status: 400, summary: 'no such group' },
  LAUNCH_INVALID: { status: 400, summary: 'invalid launch option (umask, rlimit, user)' },
  LAUNCH_NO_PRIVILEGE_DROP: { status: 500, summary: 'cannot change user: setpriv not found' },
  // discovery of unmanaged processes
  DISCOVERY_PID_FILE_MISSING: { status: 404, summary: 'pid file not found' },
  DISCOVERY_PID_FILE_INVALID: { status: 400, summary: 'pid file does not hold a process id' },
  DISCOVERY_NOT_RUNNING: { status: 404, summary: 'the process is not running' },
  DISCOVERY_NO_MATCH: { status: 404, summary: 'no running process matches' },
  DISCOVERY_PATTERN_INVALID: { status: 400, summary: 'the command-line pattern is not a valid regular expression' },
  DISCOVERY_PORT_NOT_LISTENING: { status: 404, summary: 'nothing listens on this port' },
  DISCOVERY_PORT_OWNER_UNKNOWN: { status: 404, summary: 'a socket listens on this port but no visible process owns it' },
} as const;
