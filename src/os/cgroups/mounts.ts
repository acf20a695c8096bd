/** Where the cgroup hierarchies are mounted, from /proc/self/mounts. */
import { readFileSync } from 'node:fs';

/** The v1 controllers hsu uses or may meet co-mounted with them (e.g. "cpu,cpuacct"). */
const V1_CONTROLLERS = new Set(['memory', 'cpu', 'cpuacct', 'pids', 'freezer', 'cpuset', 'blkio', 'devices', 'net_cls', 'net_prio', 'perf_event', 'hugetlb', 'rdma', 'misc']);

export interface CgroupMounts {
  /** Mount point of the unified (v2) hierarchy, if any. */
  readonly v2?: string;
  /** v1 controller -> its mount point (co-mounted controllers share one). */
  readonly v1: ReadonlyMap<string, string>;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal (\040 ...). */
function unescapeMountPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMounts(text: string): CgroupMounts {
  let v2: string | undefined;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [, mountPoint, fsType, options] = line.split(' ');
    if (mountPoint === undefined || options === undefined) continue;
    if (fsType === 'cgroup2') {
      v2 ??= unescapeMountPath(mountPoint);
    } else if (fsType === 'cgroup') {
      for (const option of options.split(',')) {
        // The first mount of a hierarchy wins; later ones are bind mounts of the same tree.
        if (V1_CONTROLLERS.has(option) && !v1.has(option)) v1.set(option, unescapeMountPath(mountPoint));
      }
    }
  }
  return v2 === undefined ? { v1 } : { v2, v1 };
}

export function readMounts(): CgroupMounts {
  try {
    return parseMounts(readFileSync('/proc/self/mounts', 'utf8'));
  } catch {
    return { v1: new Map() }; // no /proc (not Linux): nothing mounted we could use
  }
}
