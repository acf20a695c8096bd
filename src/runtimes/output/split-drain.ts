/**
 * When a worker exits, has split taken everything it wrote? The bytes may still sit in its stdin
 * (a socket pair, as node makes stdio pipes) or in split's hands. A reader blocks in the kernel's
 * read only when nothing is queued, and split writes each buffer to the file before it reads
 * again: so once the instance is gone and split sleeps in a read, every byte of that instance is
 * on disk. The kernel says where a process sleeps in /proc/PID/wchan (`unix_stream_read_generic`
 * for a socket; `anon_pipe_read`, `pipe_read`, `pipe_wait` for a pipe). Split runs as the child
 * of a shell (see split-writer.ts), which sleeps in wait meanwhile; after a failure the shell is cat.
 */
import { readFileSync } from 'node:fs';

/** True when `pid` sleeps in a read of a pipe or socket; undefined when the kernel does not say (gone, hidden wchan). */
export function sleepsInRead(pid: number): boolean | undefined {
  let wchan: string;
  let stat: string;
  try {
    wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8').trim();
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "0" is what a kernel that hides wait channels (or a running process) reports.
  if (wchan === '' || wchan === '0') return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'R' ? false : undefined;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'S' && /pipe_read|pipe_wait|unix_stream_read|unix_stream_data_wait/.test(wchan);
}

/** The reader of the shell's stdin: its child (split) while there is one, else the shell itself (cat). */
function readerOf(shell: number): number {
  try {
    const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim();
    const first = Number(children.split(' ')[0]);
    return children === '' || !Number.isSafeInteger(first) ? shell : first;
  } catch {
    return shell;
  }
}

const POLL_MS = 5;

/**
 * Resolves true once split (the child of `shell`) is seen blocked on its empty stdin, false at the deadline or
 * when the kernel cannot tell (the caller then falls back to reading what is on disk).
 */
export async function splitDrained(shell: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const sleeping = sleepsInRead(readerOf(shell));
    if (sleeping === true) return true;
    if (sleeping === undefined || Date.now() >= deadline || signal?.aborted === true) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
