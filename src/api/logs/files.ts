/**
 * Which files the logs endpoints may read: exactly `<log_dir>/<id>.out.log` and `.err.log` of a
 * worker whose id passed the id pattern (so it has no `/` or `..`), and only as a regular file:
 * a symlink planted in the log directory is not followed (O_NOFOLLOW), and a FIFO neither blocks
 * the open (O_NONBLOCK) nor is read. The one link allowed is the master's own: `<id>.out.log`
 * naming the newest numbered segment (`<id>.out.NNNNNN.log`) beside it (see docs/logs.md).
 */
import { constants } from 'node:fs';
import { open, readlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { hsuError } from '../../errors.js';

export type LogStream = 'stdout' | 'stderr';
export const LOG_STREAMS: readonly LogStream[] = ['stdout', 'stderr'];

export function logFilePath(logDir: string, workerId: string, stream: LogStream): string {
  return path.join(logDir, `${workerId}.${stream === 'stdout' ? 'out' : 'err'}.log`);
}

/** Opens a log file for reading; undefined when it does not exist (yet). API_LOG_REFUSED for anything but a regular file. */
export async function openLogFile(file: string): Promise<FileHandle | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code !== 'ELOOP') throw error;
    const segment = await segmentNamedBy(file);
    if (segment === undefined) throw refused(file, 'a symlink');
    return openLogFile(segment);
  }
  if (!(await handle.stat()).isFile()) {
    await handle.close();
    throw refused(file, 'not a regular file');
  }
  return handle;
}

/** The segment the master's link names, or undefined for any other link (elsewhere, or not a segment of this stream). */
async function segmentNamedBy(link: string): Promise<string | undefined> {
  const target = await readlink(link).catch(() => undefined);
  const base = path.basename(link, '.log');
  if (target === undefined || target.includes('/') || !target.startsWith(`${base}.`) || !/^\.\d{6,}\.log$/.test(target.slice(base.length))) return undefined;
  return path.join(path.dirname(link), target);
}

function refused(file: string, what: string): Error {
  return hsuError('API_LOG_REFUSED', `${file} is ${what}; the logs endpoint reads only the worker's own regular files`, { file });
}
