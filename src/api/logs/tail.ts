/**
 * The last lines of a log file, read backwards in chunks from the end: the cost is the size of the
 * answer, not of the file (worker logs grow without bound until rotation exists).
 */
import { openLogFile } from './files.js';
import { olderSegments, tailCompressed } from './older-segments.js';

const CHUNK_BYTES = 64 * 1024;
/** However many lines are asked for, no answer reads more than this from one file. */
export const MAX_TAIL_BYTES = 8 * 1024 * 1024;
export const MAX_TAIL_LINES = 10_000;

export interface TailResult {
  readonly file: string;
  readonly exists: boolean;
  /** File size when read: a follower continues from here. */
  readonly size: number;
  /** The inode read, so a follower can tell a rotated file from the one it tailed. */
  readonly ino: number;
  readonly lines: string[];
  /** Older lines exist before the first one returned. */
  readonly truncated: boolean;
}

export async function tailFile(file: string, lines: number): Promise<TailResult> {
  const handle = await openLogFile(file);
  if (handle === undefined) return { file, exists: false, size: 0, ino: 0, lines: [], truncated: false };
  try {
    const stat = await handle.stat();
    const size = stat.size;
    if (lines <= 0 || size === 0) return { file, exists: true, size, ino: stat.ino, lines: [], truncated: size > 0 };
    const chunks: Buffer[] = [];
    let position = size;
    let newlines = 0;
    let read = 0;
    // One more newline than lines wanted: the text after it is the first whole line.
    while (position > 0 && newlines <= lines && read < MAX_TAIL_BYTES) {
      const length = Math.min(CHUNK_BYTES, position, MAX_TAIL_BYTES - read);
      position -= length;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position);
      const chunk = buffer.subarray(0, bytesRead);
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 0x0a) newlines += 1;
      chunks.unshift(chunk);
      read += bytesRead;
    }
    let text = Buffer.concat(chunks).toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    const all = text === '' ? [] : text.split('\n');
    // When reading stopped mid-file the first piece may be part of a line: drop it.
    const whole = position > 0 ? all.slice(1) : all;
    const picked = whole.slice(-lines);
    return { file, exists: true, size, ino: stat.ino, lines: picked, truncated: position > 0 || picked.length < whole.length };
  } finally {
    await handle.close();
  }
}

/**
 * The last lines of a worker's stream across rotation: the newest segment first, then the older
 * segments before it while lines are still wanted. `file`, `size` and `ino` are the newest's (a
 * follower continues there); `truncated` says older lines exist before the first one returned.
 */
export async function tailLog(file: string, lines: number): Promise<TailResult> {
  const newest = await tailFile(file, lines);
  if (!newest.exists || newest.truncated || newest.lines.length >= lines) return newest;
  let collected = newest.lines;
  let budget = MAX_TAIL_BYTES - newest.size;
  const older = await olderSegments(file);
  for (const segment of older) {
    const wanted = lines - collected.length;
    if (wanted <= 0 || budget <= 0) return { ...newest, lines: collected, truncated: true }; // older lines remain
    const part = segment.compressed ? await tailCompressed(segment.file, wanted, budget) : await tailFile(segment.file, wanted);
    if (part === undefined || ('exists' in part && !part.exists)) return { ...newest, lines: collected, truncated: true };
    collected = [...part.lines, ...collected];
    budget -= 'size' in part ? part.size : 0;
    if (part.truncated) return { ...newest, lines: collected, truncated: true };
  }
  return { ...newest, lines: collected, truncated: false };
}
