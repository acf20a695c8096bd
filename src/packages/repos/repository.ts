/**
 * Repositories: where `name:range` finds its archive. A local directory of `.tgz` files (with an
 * `index.json`, or else named `<name>-<version>.tgz` with optional `.sha256`/`.sig` sidecars), a
 * local `index.json`, or the URL of an `index.json` served over HTTP(S).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { hsuError } from '../../errors.js';
import { downloadText, isHttpUrl } from '../fetch/http.js';
import type { ArchiveSource } from '../fetch/source.js';
import { storeError } from '../io-errors.js';
import type { PackageLimits } from '../limits.js';
import type { PackageDependency } from '../manifest/schema.js';
import { isExactVersion, isPackageName } from '../manifest/rules.js';
import { parseIndex } from './index-schema.js';
import type { RepositoryIndex } from './index-schema.js';

export interface PackageCandidate extends ArchiveSource {
  readonly name: string;
  readonly version: string;
  /** The repository that offers it, as the user wrote it. */
  readonly repository: string;
  /** Known from an index without downloading; otherwise read from the archive's package.yaml. */
  readonly dependencies?: readonly PackageDependency[] | undefined;
}

export interface Repository {
  readonly location: string;
  /** Every version of `name` this repository offers (unsorted). */
  versions(name: string): Promise<PackageCandidate[]>;
}

export interface RepositoryOptions {
  readonly limits: Pick<PackageLimits, 'maxIndexBytes' | 'idleTimeoutMs'>;
  readonly signal?: AbortSignal | undefined;
  readonly ca?: string | undefined;
  /** Relative directory paths are taken from here; default the current directory. */
  readonly cwd?: string | undefined;
}

const ARCHIVE_SUFFIX = /\.(tgz|tar\.gz)$/;

/** A repository from what a user wrote: a directory, an index.json path, a file: or http(s): URL. */
export function openRepository(spec: string, options: RepositoryOptions): Repository {
  if (/^https?:\/\//i.test(spec)) {
    const url = new URL(spec);
    return new IndexRepository(spec, url.pathname.endsWith('/') ? new URL('index.json', url) : url, options);
  }
  const file = spec.startsWith('file:') ? new URL(spec) : pathToFileURL(path.resolve(options.cwd ?? process.cwd(), spec));
  if (file.protocol !== 'file:') throw hsuError('PACKAGE_REF_INVALID', `unsupported repository ${spec} (a directory, an index.json, file: or http(s): URL)`, { repository: spec });
  return file.pathname.endsWith('.json') ? new IndexRepository(spec, file, options) : new DirectoryRepository(spec, file, options);
}

/** An index.json, local or remote; archive URLs in it are relative to the index. */
class IndexRepository implements Repository {
  private index: Promise<RepositoryIndex> | undefined;

  constructor(
    readonly location: string,
    private readonly url: URL,
    private readonly options: RepositoryOptions,
  ) {}

  async versions(name: string): Promise<PackageCandidate[]> {
    this.index ??= this.load();
    const index = await this.index;
    return index.packages.filter((entry) => entry.name === name).map((entry) => ({
      name: entry.name,
      version: entry.version,
      repository: this.location,
      location: new URL(entry.url, this.url),
      sha256: entry.sha256,
      signature: entry.signature,
      size: entry.size,
      dependencies: entry.dependencies,
    }));
  }

  private async load(): Promise<RepositoryIndex> {
    const source = this.url.protocol === 'file:' ? fileURLToPath(this.url) : this.url.href;
    const { maxIndexBytes, idleTimeoutMs } = this.options.limits;
    let text: string | undefined;
    if (isHttpUrl(this.url)) {
      text = await downloadText(this.url, { maxBytes: maxIndexBytes, idleTimeoutMs, signal: this.options.signal, ca: this.options.ca });
    } else {
      text = await readLocal(source, maxIndexBytes, 'repository index');
    }
    return parseIndex(text ?? '', source);
  }
}

/** A directory of archives: its index.json when there is one, else the archives' file names. */
class DirectoryRepository implements Repository {
  private listing: Promise<Repository | PackageCandidate[]> | undefined;

  constructor(
    readonly location: string,
    private readonly url: URL,
    private readonly options: RepositoryOptions,
  ) {}

  async versions(name: string): Promise<PackageCandidate[]> {
    this.listing ??= this.load();
    const listing = await this.listing;
    return Array.isArray(listing) ? listing.filter((candidate) => candidate.name === name) : listing.versions(name);
  }

  private async load(): Promise<Repository | PackageCandidate[]> {
    const dir = fileURLToPath(this.url);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === 'ENOENT' || errno === 'ENOTDIR') throw hsuError('PACKAGE_NOT_FOUND', `repository directory ${dir} does not exist`, { repository: this.location }, error);
      throw storeError(error, `reading repository ${dir}`);
    }
    if (names.includes('index.json')) return new IndexRepository(this.location, new URL('index.json', `${this.url.href}/`), this.options);
    return names.flatMap((file) => {
      const parsed = ARCHIVE_SUFFIX.test(file) ? parseArchiveName(file.replace(ARCHIVE_SUFFIX, '')) : undefined;
      if (parsed === undefined) return [];
      return [{ ...parsed, repository: this.location, location: pathToFileURL(path.join(dir, file)) }];
    });
  }
}

/**
 * `data-processor-1.2.3-rc.1` -> data-processor 1.2.3-rc.1: the first `-<digit>` after which the
 * rest is a valid version (names may hold dashes and digits, versions may hold dashes).
 */
export function parseArchiveName(base: string): { name: string; version: string } | undefined {
  for (let at = base.indexOf('-'); at > 0; at = base.indexOf('-', at + 1)) {
    const name = base.slice(0, at);
    const version = base.slice(at + 1);
    if (isPackageName(name) && isExactVersion(version)) return { name, version };
  }
  return undefined;
}

async function readLocal(file: string, maxBytes: number, what: string): Promise<string> {
  try {
    const info = await stat(file);
    if (info.size > maxBytes) throw hsuError('PACKAGE_TOO_LARGE', `${what} ${file} is larger than ${maxBytes} bytes`, { file, limit: maxBytes });
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw hsuError('PACKAGE_NOT_FOUND', `${what} ${file} does not exist`, { file }, error);
    throw storeError(error, `reading ${file}`, { file });
  }
}
