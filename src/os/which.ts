/**
 * Resolves an executable the way execvp would, but ahead of spawn, so a missing or non-executable
 * file becomes a clear coded error instead of an ENOENT from deep inside child_process.
 */
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export interface ResolvedExecutable {
  /** Absolute path when found; the best guess (the name itself) when not. */
  readonly path: string;
  readonly exists: boolean;
  /** A regular file with an execute bit for us; a directory is never executable here. */
  readonly executable: boolean;
}

export interface WhichOptions {
  /** PATH to search for bare names; defaults to the current process's PATH. */
  readonly pathEnv?: string | undefined;
  /** Base for relative paths such as `./bin/app`; the child's working directory, since it execs from there. */
  readonly cwd?: string | undefined;
}

function inspect(file: string): ResolvedExecutable {
  try {
    if (!statSync(file).isFile()) return { path: file, exists: true, executable: false };
  } catch {
    return { path: file, exists: false, executable: false };
  }
  try {
    accessSync(file, constants.X_OK);
    return { path: file, exists: true, executable: true };
  } catch {
    return { path: file, exists: true, executable: false };
  }
}

export function which(command: string, options: WhichOptions = {}): ResolvedExecutable {
  if (command.includes('/')) return inspect(path.resolve(options.cwd ?? process.cwd(), command));
  let firstFound: ResolvedExecutable | undefined;
  for (const dir of (options.pathEnv ?? process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue; // an empty entry means cwd in POSIX; too surprising for a supervisor
    const candidate = inspect(path.join(dir, command));
    if (candidate.executable) return candidate;
    firstFound ??= candidate.exists ? candidate : undefined;
  }
  // Like execvp: a non-executable match is reported so the error says "not executable", not "not found".
  return firstFound ?? { path: command, exists: false, executable: false };
}
