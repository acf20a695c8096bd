/**
 * What `ulimit` means in this machine's /bin/sh. Shells disagree: dash sets the process limit with
 * -p, bash and busybox with -u; -c counts 512-byte blocks in dash and POSIX-mode bash. One probe
 * per shell, on first use, answers both from the kernel's own view (/proc/self/limits).
 */
import { spawnSync } from 'node:child_process';

export interface ShellFacts {
  /** Flag of RLIMIT_NPROC, or undefined when the shell has none. */
  readonly nprocFlag?: '-u' | '-p';
  /** Bytes per unit of `ulimit -c`. */
  readonly coreUnit: number;
}

const cache = new Map<string, ShellFacts>();

const PROBE = [
  'ulimit -H -c unlimited 2>/dev/null; ulimit -S -c 1 2>/dev/null && grep "^Max core file size" /proc/self/limits',
  'if ulimit -u >/dev/null 2>&1; then echo nproc=-u; elif ulimit -p >/dev/null 2>&1; then echo nproc=-p; fi',
].join('\n');

export function shellFacts(shell: string): ShellFacts {
  const known = cache.get(shell);
  if (known !== undefined) return known;
  const result = spawnSync(shell, ['-c', PROBE], { encoding: 'utf8', timeout: 5_000 });
  const out = result.stdout ?? '';
  const core = /^Max core file size\s+(\d+)/m.exec(out);
  const nproc = /^nproc=(-u|-p)$/m.exec(out);
  const facts: ShellFacts = {
    coreUnit: core?.[1] === undefined ? 512 : Number(core[1]),
    ...(nproc?.[1] === undefined ? {} : { nprocFlag: nproc[1] as '-u' | '-p' }),
  };
  cache.set(shell, facts);
  return facts;
}
