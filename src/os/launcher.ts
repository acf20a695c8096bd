/**
 * Turns a command plus what Node's spawn cannot do (join a cgroup, umask, rlimits, a user with its
 * supplementary groups) into a plain {file, args} for spawn: `/bin/sh -c SCRIPT FILE VALUES... ARGS...`.
 * The script is fixed text that only refers to positional parameters; no configured string is
 * ever part of it, so nothing can be injected. It ends in `exec`, so the program replaces the shell
 * (same pid) and is in its cgroup and under its limits before its first instruction.
 */
import { hsuError } from '../errors.js';
import { which } from './which.js';
import { shellFacts } from './shell-probe.js';
import { resolveGroup, resolveUser, type UserEntry } from './users.js';

export type RlimitBound = number | 'unlimited';
/** One number (or "unlimited") sets soft and hard alike. */
export type RlimitValue = RlimitBound | { readonly soft: RlimitBound; readonly hard: RlimitBound };

export interface Rlimits {
  /** Open files (RLIMIT_NOFILE). */
  readonly nofile?: RlimitValue;
  /** Core file size in bytes (RLIMIT_CORE); 0 disables core dumps. */
  readonly core?: RlimitValue;
  /** Processes of the user (RLIMIT_NPROC). */
  readonly nproc?: RlimitValue;
}

export interface LaunchSpec {
  readonly file: string;
  readonly args: readonly string[];
  /** cgroup.procs files to join (one for v2, one per controller for v1): WorkerCgroup.procsFiles. */
  readonly cgroupProcsFiles?: readonly string[];
  /** Octal, as a string ("027") or a number (0o027). */
  readonly umask?: string | number;
  readonly rlimits?: Rlimits;
  readonly user?: string | number;
  readonly group?: string | number;
}

export interface LaunchOptions {
  readonly shell?: string;
  /** Path of setpriv, or null to pretend it is absent; found on PATH by default. */
  readonly setpriv?: string | null;
}

export interface LaunchPlan {
  readonly file: string;
  readonly args: readonly string[];
  /** Set only when the user change is left to spawn's own uid/gid (no setpriv, no cgroup). */
  readonly uid?: number;
  readonly gid?: number;
  /** HOME, USER, LOGNAME of the target user, for the caller to merge into the child's env. */
  readonly env: Readonly<Record<string, string>>;
  readonly wrapped: boolean;
}

/** The exit status of the launcher itself failing (cgroup, limit, umask), distinct from 126/127. */
export const LAUNCH_FAILED_EXIT = 125;
const FLAG: Readonly<Record<keyof Rlimits, string>> = { nofile: '-n', core: '-c', nproc: '' };

function bound(name: string, value: RlimitBound, unit: number): string {
  if (value === 'unlimited') return 'unlimited';
  if (!Number.isSafeInteger(value) || value < 0) throw hsuError('LAUNCH_INVALID', `rlimit ${name} must be a non-negative integer or "unlimited", got ${String(value)}`, { rlimit: name, value });
  return String(Math.floor(value / unit));
}

function parseUmask(value: string | number): string {
  const text = typeof value === 'number' ? value.toString(8) : value;
  if (!/^[0-7]{1,4}$/.test(text) || Number.parseInt(text, 8) > 0o777) throw hsuError('LAUNCH_INVALID', `umask must be octal 000-777, got ${String(value)}`, { umask: value });
  return text.padStart(4, '0');
}

let setprivCache: string | null | undefined;
function findSetpriv(): string | null {
  setprivCache ??= (() => {
    const found = which('setpriv', { pathEnv: `${process.env.PATH ?? ''}:/usr/bin:/bin:/usr/sbin:/sbin` });
    return found.executable ? found.path : null;
  })();
  return setprivCache;
}

/** Collects positional values; each script line refers to them only as "${n}". */
class Script {
  readonly lines: string[] = [];
  readonly values: string[] = [];
  ref(value: string): string {
    this.values.push(value);
    return `"\${${this.values.length}}"`;
  }
  fail(what: string): string {
    return `{ printf 'hsu-launch: %s\\n' ${this.ref(what)} >&2; exit ${LAUNCH_FAILED_EXIT}; }`;
  }
}

function addRlimit(script: Script, name: keyof Rlimits, value: RlimitValue, shell: string): void {
  const facts = shellFacts(shell);
  const flag = name === 'nproc' ? facts.nprocFlag : FLAG[name];
  if (flag === undefined) throw hsuError('LAUNCH_INVALID', `${shell} cannot set rlimit ${name}`, { rlimit: name, shell });
  const unit = name === 'core' ? facts.coreUnit : 1;
  const soft = bound(name, typeof value === 'object' ? value.soft : value, unit);
  const hard = bound(name, typeof value === 'object' ? value.hard : value, unit);
  const fail = script.fail(`cannot set rlimit ${name}`);
  if (soft === hard) {
    script.lines.push(`ulimit ${flag} ${script.ref(soft)} || ${fail}`);
    return;
  }
  // Lower the soft limit first (it must never exceed the hard one), then set hard, then soft.
  const s = script.ref(soft);
  script.lines.push(`ulimit -S ${flag} ${s} 2>/dev/null; ulimit -H ${flag} ${script.ref(hard)} && ulimit -S ${flag} ${s} || ${fail}`);
}

function userEnv(user: UserEntry | undefined): Record<string, string> {
  return user === undefined || !user.listed ? {} : { HOME: user.home, USER: user.name, LOGNAME: user.name };
}

export function planLaunch(spec: LaunchSpec, options: LaunchOptions = {}): LaunchPlan {
  const shell = options.shell ?? '/bin/sh';
  const user = spec.user === undefined ? undefined : resolveUser(spec.user);
  const group = spec.group === undefined ? undefined : resolveGroup(spec.group);
  const script = new Script();
  for (const file of spec.cgroupProcsFiles ?? []) script.lines.push(`echo $$ > ${script.ref(file)} || ${script.fail(`cannot join cgroup ${file}`)}`);
  for (const name of ['nofile', 'core', 'nproc'] as const) {
    const value = spec.rlimits?.[name];
    if (value !== undefined) addRlimit(script, name, value, shell);
  }
  if (spec.umask !== undefined) script.lines.push(`umask ${script.ref(parseUmask(spec.umask))} || ${script.fail('cannot set umask')}`);

  let exec = 'exec "$0" "$@"';
  let spawnIds: { uid?: number; gid?: number } = {};
  if (user !== undefined || group !== undefined) {
    const uid = user?.uid;
    const gid = group?.gid ?? user?.gid;
    const setpriv = options.setpriv === undefined ? findSetpriv() : options.setpriv;
    if (setpriv !== null) {
      // Everything above ran with our privileges (joining a cgroup, raising a hard limit); drop them last.
      const words = [setpriv, ...(uid === undefined ? [] : [`--reuid=${uid}`]), ...(gid === undefined ? [] : [`--regid=${gid}`])];
      const groups = user?.listed === true ? '--init-groups' : '--clear-groups';
      // Kept in variables: the `shift` below drops the positional parameters before exec.
      words.forEach((word, i) => script.lines.push(`hsu_${i}=${script.ref(word)}`));
      exec = `exec ${words.map((_, i) => `"$hsu_${i}"`).join(' ')} ${groups} -- "$0" "$@"`;
    } else if ((spec.cgroupProcsFiles ?? []).length > 0) {
      throw hsuError('LAUNCH_NO_PRIVILEGE_DROP', 'joining a cgroup as another user needs setpriv (util-linux)', { user: spec.user, group: spec.group });
    } else {
      // spawn's uid/gid: the shell itself runs as the user (supplementary groups are dropped).
      spawnIds = { ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
    }
  }
  const env = userEnv(user);
  if (script.lines.length === 0 && exec === 'exec "$0" "$@"') {
    return { file: spec.file, args: [...spec.args], ...spawnIds, env, wrapped: false };
  }
  const n = script.values.length;
  const text = [...script.lines, ...(n > 0 ? [`shift ${n}`] : []), exec].join('\n');
  return { file: shell, args: ['-c', text, spec.file, ...script.values, ...spec.args], ...spawnIds, env, wrapped: true };
}
