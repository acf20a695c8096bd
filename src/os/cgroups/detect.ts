/**
 * Which cgroup hierarchy hsu can use, and why. Side-effect free: it checks that the place where the
 * hsu parent group would live is writable, and creates nothing (creation failures surface later as
 * CGROUP_CREATE_FAILED, with a fallback to polling).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { readControl } from './control-files.js';
import { readMounts, type CgroupMounts } from './mounts.js';
import { V1_WANTED } from './v1.js';

export type EnforcementMode = 'cgroup-v2' | 'cgroup-v1' | 'poll';

export interface CgroupSupport {
  readonly mode: EnforcementMode;
  /** One sentence for diagnostics: what was found and why this mode. */
  readonly reason: string;
  /** v2: absolute parent directory; v1: the parent path under each controller's mount. */
  readonly parent: string;
  readonly v2Mount?: string;
  /** Controllers the worker groups can use (v2: offered at the mount root; v1: mounted and writable). */
  readonly controllers: readonly string[];
  readonly v1Mounts: ReadonlyMap<string, string>;
}

export interface DetectOptions {
  /** Parent group path, relative to the hierarchy root. Default "hsu". */
  readonly parent?: string;
  /** Force a mode (tests, or an operator who wants v1 on a hybrid host); "auto" by default. */
  readonly prefer?: 'auto' | 'v2' | 'v1' | 'poll';
  /** For tests: mounts to consider instead of /proc/self/mounts. */
  readonly mounts?: CgroupMounts;
}

/** The closest existing ancestor of `dir` (the parent may not exist yet) is what must be writable. */
function writable(dir: string): boolean {
  let probe = dir;
  while (!existsSync(probe) && path.dirname(probe) !== probe) probe = path.dirname(probe);
  try {
    accessSync(probe, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

const LIMIT_CONTROLLERS = ['memory', 'cpu', 'pids'];

export function detectCgroups(options: DetectOptions = {}): CgroupSupport {
  const mounts = options.mounts ?? readMounts();
  const parent = options.parent ?? 'hsu';
  const prefer = options.prefer ?? 'auto';
  const none = (reason: string): CgroupSupport => ({ mode: 'poll', reason, parent, controllers: [], v1Mounts: new Map() });
  if (prefer === 'poll') return none('polling chosen by configuration');

  const v2Parent = mounts.v2 === undefined ? undefined : path.join(mounts.v2, parent);
  const v2Writable = v2Parent !== undefined && writable(v2Parent);
  const v2Controllers = mounts.v2 === undefined ? [] : (readControl(path.join(mounts.v2, 'cgroup.controllers')) ?? '').trim().split(/\s+/).filter(Boolean);
  const v2Limits = LIMIT_CONTROLLERS.filter((c) => v2Controllers.includes(c));

  const v1Mounts = new Map<string, string>();
  for (const controller of V1_WANTED) {
    const mount = mounts.v1.get(controller);
    if (mount !== undefined && writable(path.join(mount, parent))) v1Mounts.set(controller, mount);
  }
  const v1Limits = LIMIT_CONTROLLERS.filter((c) => v1Mounts.has(c));

  const v2 = (reason: string): CgroupSupport => ({ mode: 'cgroup-v2', reason, parent: v2Parent ?? parent, v2Mount: mounts.v2 ?? '', controllers: v2Limits, v1Mounts: new Map() });
  const v1 = (reason: string): CgroupSupport => ({ mode: 'cgroup-v1', reason, parent, controllers: [...v1Mounts.keys()], v1Mounts });
  const v2Text = mounts.v2 === undefined ? 'no cgroup2 mount' : `cgroup2 at ${mounts.v2} ${v2Writable ? 'writable' : 'not writable'} with controllers [${v2Controllers.join(' ')}]`;
  const v1Text = v1Mounts.size === 0 ? 'no writable v1 controller' : `v1 controllers [${[...v1Mounts.keys()].join(' ')}] writable`;

  if (prefer === 'v2') return v2Writable ? v2(`v2 chosen by configuration; ${v2Text}`) : none(`v2 requested but ${v2Text}`);
  if (prefer === 'v1') return v1Limits.length > 0 ? v1(`v1 chosen by configuration; ${v1Text}`) : none(`v1 requested but ${v1Text}`);
  if (v2Writable && v2Limits.includes('memory')) return v2(`${v2Text}`);
  // A hybrid host binds memory/cpu/pids to v1 and leaves the unified tree without controllers.
  if (v1Limits.length > 0) return v1(`${v1Text}; ${v2Text}`);
  if (v2Writable) return v2(`${v2Text}: kill and freeze only, limits by polling`);
  return none(`${v2Text}; ${v1Text}`);
}
