/**
 * Finds an unmanaged worker's process: by pid file, by process name (comm), by a command-line
 * pattern, or by the TCP port it listens on. Each answer is a list of identities (pid + start
 * time), so a recycled pid is never taken for the worker; each failure is a coded error that says
 * why nothing matched.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { CLOCK_TICKS_PER_SECOND } from './proc.js';
import { hsuError, isHsuError, serializeError, type SerializedError } from '../errors.js';
import { bootTimeMs, isPidName, readSmallFile } from './proc-files.js';
import { listeningSockets, socketOwners } from './proc-net.js';
import { readStat, type Identity } from './proc-stat.js';

export interface DiscoveredProcess extends Identity {
  readonly comm: string;
  readonly cmdline: readonly string[];
  /** Wall-clock start, ms since the epoch (10 ms resolution). */
  readonly started_at: number;
}

/** The `unmanaged` config's ways to find a process: exactly one key. */
export type DiscoverySpec =
  | { readonly pid_file: string; readonly process_name?: string }
  | { readonly process_name: string }
  | { readonly command_pattern: string }
  | { readonly port: number };

export type DiscoveryResult =
  | { readonly ok: true; readonly processes: readonly DiscoveredProcess[] }
  | { readonly ok: false; readonly error: SerializedError };

/** btime has whole-second resolution; a pid file's mtime is exact. Two seconds absorbs both. */
const START_SLACK_MS = 2_000;

export function describeProcess(pid: number, boot = bootTimeMs()): DiscoveredProcess | undefined {
  const stat = readStat(pid);
  if (stat === undefined || stat.state === 'Z') return undefined;
  const comm = (readSmallFile(`/proc/${pid}/comm`) ?? '').replace(/\n$/, '');
  const raw = readSmallFile(`/proc/${pid}/cmdline`) ?? '';
  const cmdline = raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
  return { pid, startTimeTicks: stat.startTimeTicks, comm, cmdline, started_at: boot + (stat.startTimeTicks / CLOCK_TICKS_PER_SECOND) * 1000 };
}

/** Reads, validates and checks a pid file: the pid must run, and must have started before the file was written. */
export function discoverByPidFile(file: string, expectName?: string): DiscoveredProcess {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(file, 'utf8');
    mtimeMs = statSync(file).mtimeMs;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw hsuError('DISCOVERY_PID_FILE_MISSING', `cannot read pid file ${file}: ${code ?? String(error)}`, { pid_file: file, errno: code });
  }
  // Some daemons put more after the pid (postgres); the first line is the pid everywhere.
  const first = text.split('\n')[0]?.trim() ?? '';
  const pid = /^\d{1,10}$/.test(first) ? Number(first) : Number.NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 2 ** 22) {
    throw hsuError('DISCOVERY_PID_FILE_INVALID', `pid file ${file} does not start with a process id: ${JSON.stringify(text.slice(0, 40))}`, { pid_file: file });
  }
  const found = describeProcess(pid);
  if (found === undefined) throw hsuError('DISCOVERY_NOT_RUNNING', `pid ${pid} from ${file} is not running`, { pid_file: file, pid });
  if (found.started_at > mtimeMs + START_SLACK_MS) {
    throw hsuError('DISCOVERY_NOT_RUNNING', `pid ${pid} from ${file} now names a process started after the file was written (pid reused)`, { pid_file: file, pid, reason: 'pid_reused' });
  }
  if (expectName !== undefined && !nameMatches(found, expectName)) {
    throw hsuError('DISCOVERY_NOT_RUNNING', `pid ${pid} from ${file} is ${JSON.stringify(found.comm)}, not ${JSON.stringify(expectName)}`, { pid_file: file, pid, comm: found.comm, reason: 'name_mismatch' });
  }
  return found;
}

/** Every live process but this one, in start order (the oldest, usually the main process, first). */
function scan(match: (process: DiscoveredProcess) => boolean): { matched: DiscoveredProcess[]; scanned: number } {
  const boot = bootTimeMs();
  const matched: DiscoveredProcess[] = [];
  let scanned = 0;
  for (const name of readdirSync('/proc')) {
    if (!isPidName(name) || Number(name) === process.pid) continue;
    const found = describeProcess(Number(name), boot);
    if (found === undefined || found.cmdline.length === 0) continue; // kernel threads have no cmdline
    scanned++;
    if (match(found)) matched.push(found);
  }
  matched.sort((a, b) => a.startTimeTicks - b.startTimeTicks || a.pid - b.pid);
  return { matched, scanned };
}

/**
 * The kernel's comm (15 bytes, truncated) or the base name of argv[0]. Both are needed: a program
 * may rename its main thread (Node 24 calls its "MainThread"), and comm truncates long names.
 */
export function nameMatches(process: DiscoveredProcess, name: string): boolean {
  if (process.comm === name.slice(0, 15)) return true;
  const argv0 = process.cmdline[0] ?? '';
  return argv0.slice(argv0.lastIndexOf('/') + 1) === name;
}

/** By process name: comm or argv[0]'s base name. */
export function discoverByName(name: string): DiscoveredProcess[] {
  const { matched, scanned } = scan((p) => nameMatches(p, name));
  if (matched.length === 0) throw hsuError('DISCOVERY_NO_MATCH', `no process named ${JSON.stringify(name)} among ${scanned}`, { process_name: name, scanned });
  return matched;
}

/** By a regular expression over the command line, arguments joined by single spaces. */
export function discoverByCommandLine(pattern: string): DiscoveredProcess[] {
  let regex: RegExp;
  try {
    regex = new RegExp(pattern);
  } catch (error) {
    throw hsuError('DISCOVERY_PATTERN_INVALID', `invalid command pattern ${JSON.stringify(pattern)}: ${(error as Error).message}`, { command_pattern: pattern });
  }
  const { matched, scanned } = scan((p) => regex.test(p.cmdline.join(' ')));
  if (matched.length === 0) throw hsuError('DISCOVERY_NO_MATCH', `no command line matches /${pattern}/ among ${scanned} processes`, { command_pattern: pattern, scanned });
  return matched;
}

/** By listening TCP port (IPv4 and IPv6, any address). */
export function discoverByPort(port: number): DiscoveredProcess[] {
  const sockets = listeningSockets().filter((s) => s.port === port);
  if (sockets.length === 0) throw hsuError('DISCOVERY_PORT_NOT_LISTENING', `nothing listens on TCP port ${port}`, { port });
  const owners = socketOwners(new Set(sockets.map((s) => s.inode)));
  const boot = bootTimeMs();
  const pids = new Set([...owners.values()].flat());
  const found = [...pids].map((pid) => describeProcess(pid, boot)).filter((p): p is DiscoveredProcess => p !== undefined);
  if (found.length === 0) {
    throw hsuError('DISCOVERY_PORT_OWNER_UNKNOWN', `port ${port} is listening but no visible process holds the socket (another user's or namespace's)`, { port, inodes: sockets.map((s) => s.inode) });
  }
  // A prefork server shares the socket with its workers; the oldest holder is the master.
  return found.sort((a, b) => a.startTimeTicks - b.startTimeTicks || a.pid - b.pid);
}

/** One entry point for config-driven attach; never throws for a coded discovery failure. */
export function discover(spec: DiscoverySpec): DiscoveryResult {
  try {
    if ('pid_file' in spec) return { ok: true, processes: [discoverByPidFile(spec.pid_file, spec.process_name)] };
    if ('port' in spec) return { ok: true, processes: discoverByPort(spec.port) };
    if ('command_pattern' in spec) return { ok: true, processes: discoverByCommandLine(spec.command_pattern) };
    return { ok: true, processes: discoverByName(spec.process_name) };
  } catch (error) {
    if (!isHsuError(error)) throw error;
    return { ok: false, error: serializeError(error) };
  }
}
