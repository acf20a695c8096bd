/**
 * What a package archive may contain, checked on every tar header before anything is written:
 * regular files, directories, symbolic links that stay inside the package and hard links to files
 * already in it. Refused: absolute paths, `..` segments, devices, FIFOs, any other type, a path
 * listed twice, writing through a symbolic link, the reserved `.hsu-package` directory, and more
 * entries or bytes than the limits allow.
 */
import path from 'node:path';
import { hsuError } from '../../errors.js';
import type { HsuError } from '../../errors.js';
import type { PackageLimits } from '../limits.js';

/** Where the store keeps its own files inside an installed version (receipt, archive copy). */
export const RESERVED_DIR = '.hsu-package';

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const DIRECTORY_TYPES = new Set(['Directory', 'GNUDumpDir']);

/** The header fields the rules read (node-tar's ReadEntry has them). */
export interface EntryHeader {
  path: string;
  type: string;
  size?: number | undefined;
  linkpath?: string | undefined;
}

export class EntryRules {
  private readonly seen = new Map<string, string>();
  private readonly symlinks = new Set<string>();
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly limits: Pick<PackageLimits, 'maxEntries' | 'maxUnpackedBytes'>,
    private readonly source: string,
  ) {}

  /** Symbolic links accepted so far, relative to the package root (checked again once on disk). */
  get symlinkPaths(): readonly string[] {
    return [...this.symlinks];
  }

  get totals(): { entries: number; bytes: number } {
    return { entries: this.entries, bytes: this.bytes };
  }

  /** The reason `entry` must not be unpacked, or undefined when it is fine. */
  check(entry: EntryHeader): HsuError | undefined {
    const raw = entry.path;
    const unsafe = (reason: string): HsuError => hsuError('PACKAGE_ARCHIVE_UNSAFE', `${this.source}: entry ${JSON.stringify(raw)} ${reason}`, { source: this.source, entry: raw, type: entry.type });
    if (raw.includes('\0')) return unsafe('has a NUL character in its path');
    if (path.posix.isAbsolute(raw) || /^[A-Za-z]:/.test(raw)) return unsafe('has an absolute path');
    if (raw.split('/').includes('..')) return unsafe('has ".." in its path');
    const normal = path.posix.normalize(raw).replace(/\/+$/, '');
    const isDirectory = DIRECTORY_TYPES.has(entry.type);
    if (normal === '.' || normal === '') return isDirectory ? undefined : unsafe('replaces the package root');
    if (normal === RESERVED_DIR || normal.startsWith(`${RESERVED_DIR}/`)) return unsafe(`uses the name ${RESERVED_DIR}, which the store reserves`);
    if (!isDirectory && !FILE_TYPES.has(entry.type) && entry.type !== 'SymbolicLink' && entry.type !== 'Link') {
      return unsafe(`is a ${describeType(entry.type)}; only files, directories and links are allowed`);
    }
    const throughLink = ancestors(normal).find((dir) => this.symlinks.has(dir));
    if (throughLink !== undefined) return unsafe(`would be written through the symbolic link ${JSON.stringify(throughLink)}`);
    const earlier = this.seen.get(normal);
    if (earlier !== undefined && !(isDirectory && DIRECTORY_TYPES.has(earlier))) return unsafe('is listed twice');

    if (entry.type === 'SymbolicLink') {
      const problem = symlinkProblem(normal, entry.linkpath ?? '');
      if (problem !== undefined) return unsafe(problem);
      this.symlinks.add(normal);
    } else if (entry.type === 'Link') {
      const target = entry.linkpath ?? '';
      if (path.posix.isAbsolute(target) || target.split('/').includes('..')) return unsafe(`is a hard link to ${JSON.stringify(target)}, outside the package`);
      const targetType = this.seen.get(path.posix.normalize(target));
      if (targetType === undefined || !FILE_TYPES.has(targetType)) return unsafe(`is a hard link to ${JSON.stringify(target)}, which is not a file earlier in the archive`);
    }

    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      return hsuError('PACKAGE_TOO_LARGE', `${this.source} has more than ${this.limits.maxEntries} entries`, { source: this.source, limit: this.limits.maxEntries });
    }
    if (FILE_TYPES.has(entry.type)) this.bytes += entry.size ?? 0;
    if (this.bytes > this.limits.maxUnpackedBytes) {
      return hsuError('PACKAGE_TOO_LARGE', `${this.source} unpacks to more than ${this.limits.maxUnpackedBytes} bytes`, { source: this.source, limit: this.limits.maxUnpackedBytes });
    }
    this.seen.set(normal, entry.type);
    return undefined;
  }
}

/** A link is fine when, read as text from the link's own directory, it stays inside the root. */
function symlinkProblem(linkPath: string, target: string): string | undefined {
  if (target === '') return 'is a symbolic link with an empty target';
  if (path.posix.isAbsolute(target)) return `is a symbolic link to the absolute path ${JSON.stringify(target)}`;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../')) return `is a symbolic link to ${JSON.stringify(target)}, outside the package`;
  return undefined;
}

function ancestors(normal: string): string[] {
  const parts = normal.split('/');
  return parts.slice(0, -1).map((_, index) => parts.slice(0, index + 1).join('/'));
}

function describeType(type: string): string {
  switch (type) {
    case 'CharacterDevice':
      return 'character device';
    case 'BlockDevice':
      return 'block device';
    case 'FIFO':
      return 'FIFO';
    default:
      return `${type} entry`;
  }
}
