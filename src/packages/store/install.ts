/**
 * One install as a transaction: the requested package and every dependency it lacks are staged
 * (fetched, verified, unpacked) in temporary directories inside the store, then committed by one
 * rename each, dependencies first. If anything fails or the install is aborted or times out,
 * versions committed by this install are taken back out and every temporary directory is removed:
 * the store holds all of it or none of it.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { hsuError, isHsuError } from '../../errors.js';
import type { HsuError } from '../../errors.js';
import type { ArchiveSource } from '../fetch/source.js';
import { storeError } from '../io-errors.js';
import type { PackageDependency, PackageManifest } from '../manifest/schema.js';
import { assertSupports } from '../manifest/supports.js';
import type { InstallTarget } from '../manifest/supports.js';
import { parsePackageRef } from '../repos/ref.js';
import type { PackageRef } from '../repos/ref.js';
import { openRepository } from '../repos/repository.js';
import type { PackageCandidate, Repository } from '../repos/repository.js';
import { resolveDependencies } from './dependencies.js';
import type { DependencyNode } from './dependencies.js';
import { stagePackage } from './stage.js';
import type { ProgressEvent, StagedPackage } from './stage.js';
import type { InstalledPackage, PackageStore } from './store.js';

export interface InstallOptions {
  /** Refuse the package unless it supports this deployment (`both` = process and module). */
  readonly target?: InstallTarget | undefined;
  /** Searched after the store's own repositories. */
  readonly repositories?: readonly string[] | undefined;
  /** Re-install a version that is already installed, replacing it. */
  readonly force?: boolean | undefined;
  /** The sha256 an archive reference must have (overrides its `.sha256` sidecar). */
  readonly sha256?: string | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Default: the store's `installTimeoutMs` limit. */
  readonly timeoutMs?: number | undefined;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
  /** Relative archive paths and repository directories are taken from here. */
  readonly cwd?: string | undefined;
}

export interface InstallResult {
  /** The package that was asked for. */
  readonly package: InstalledPackage;
  /** What this install added, dependencies first, the requested package last (if it was new). */
  readonly installed: readonly InstalledPackage[];
  readonly already_installed: boolean;
}

export async function installPackage(store: PackageStore, input: string | PackageRef, options: InstallOptions): Promise<InstallResult> {
  const ref = typeof input === 'string' ? parsePackageRef(input, options.cwd) : input;
  await store.layout.sweep();
  const abort = new AbortController();
  const timeoutMs = options.timeoutMs ?? store.limits.installTimeoutMs;
  const timer = setTimeout(() => abort.abort(hsuError('PACKAGE_INSTALL_TIMEOUT', `install of ${ref.text} did not finish within ${timeoutMs} ms`, { ref: ref.text, timeout_ms: timeoutMs })), timeoutMs);
  const forward = (): void => abort.abort(hsuError('PACKAGE_INSTALL_ABORTED', `install of ${ref.text} was aborted`, { ref: ref.text }));
  if (options.signal?.aborted === true) forward();
  options.signal?.addEventListener('abort', forward, { once: true });
  const tx = new InstallTransaction(store, options, abort.signal);
  try {
    return await tx.run(ref);
  } catch (error) {
    await tx.undo();
    // Whatever step noticed the abort, the reason (timeout or caller) is what the caller needs to see.
    throw abort.signal.aborted && isHsuError(abort.signal.reason) ? abort.signal.reason : error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', forward);
    await tx.cleanup();
  }
}

interface Committed {
  readonly dir: string;
  /** Where the version it replaced (with --force) waits, to be put back on failure. */
  readonly replaced: string | undefined;
}

class InstallTransaction {
  private readonly temps: string[] = [];
  private readonly staged = new Map<string, Promise<StagedPackage>>();
  private readonly offers = new Map<string, Promise<PackageCandidate[]>>();
  private readonly committed: Committed[] = [];
  private readonly repositories: Repository[];

  constructor(
    private readonly store: PackageStore,
    private readonly options: InstallOptions,
    private readonly signal: AbortSignal,
  ) {
    const specs = [...store.repositories, ...(options.repositories ?? [])];
    this.repositories = specs.map((spec) => openRepository(spec, { limits: store.limits, signal, ca: store.ca, cwd: options.cwd }));
  }

  async run(ref: PackageRef): Promise<InstallResult> {
    const root = ref.kind === 'archive' ? await this.rootFromArchive(ref.source) : await this.rootFromRepositories(ref.name, ref.range);
    if (this.options.target !== undefined) assertSupports(root.manifest, this.options.target);
    const closure = await resolveDependencies(root.manifest, {
      versions: (name) => this.versions(name),
      node: (name, version) => this.node(name, version),
    });
    const installed: InstalledPackage[] = [];
    for (const [name, version] of closure) {
      if ((await this.store.get(name, version)) !== undefined) continue;
      installed.push(await this.commit(await this.stageOffer(name, version), false));
    }
    if (root.staged !== undefined) {
      installed.push(await this.commit(root.staged, root.replaces));
      return { package: installed[installed.length - 1] as InstalledPackage, installed, already_installed: false };
    }
    return { package: await this.store.require(root.manifest.name, root.manifest.version), installed, already_installed: true };
  }

  /** Takes back what this install committed (newest first), restoring replaced versions. */
  async undo(): Promise<void> {
    for (const entry of this.committed.reverse()) {
      const trash = await this.temp().catch(() => undefined);
      if (trash !== undefined) await rename(entry.dir, path.join(trash, 'undone')).catch(() => rm(entry.dir, { recursive: true, force: true }));
      if (entry.replaced !== undefined) await rename(entry.replaced, entry.dir).catch(() => undefined);
      this.store.invalidate(entry.dir);
    }
    this.committed.length = 0;
  }

  async cleanup(): Promise<void> {
    for (const dir of this.temps) await this.store.layout.removeTemp(dir);
  }

  private async rootFromArchive(source: ArchiveSource): Promise<Root> {
    const withSum = this.options.sha256 === undefined ? source : { ...source, sha256: this.options.sha256 };
    const staged = await this.stage(withSum);
    const { manifest } = staged;
    this.staged.set(key(manifest.name, manifest.version), Promise.resolve(staged));
    const existing = await this.store.get(manifest.name, manifest.version);
    if (existing === undefined) return { manifest, staged, replaces: false };
    if (this.options.force === true) return { manifest, staged, replaces: true };
    if (existing.receipt.sha256 === staged.receipt.sha256) return { manifest: existing.manifest, staged: undefined, replaces: false };
    throw hsuError('PACKAGE_EXISTS', `${manifest.name}@${manifest.version} is installed from an archive with sha256 ${existing.receipt.sha256}; this one is ${staged.receipt.sha256} (use --force to replace it)`, {
      package: manifest.name,
      version: manifest.version,
      installed_sha256: existing.receipt.sha256,
      sha256: staged.receipt.sha256,
    });
  }

  private async rootFromRepositories(name: string, range: string): Promise<Root> {
    const installed = await this.store.versions(name);
    const offered = (await this.offered(name)).map((offer) => offer.version);
    const best = semver.maxSatisfying([...new Set([...installed, ...offered])], range);
    if (best === null) {
      const where = this.repositories.length === 0 ? 'no repository is configured (use --repo)' : `searched ${this.repositories.map((repo) => repo.location).join(', ')}`;
      throw hsuError('PACKAGE_NOT_FOUND', `no version of ${name} matches ${range} (installed: ${installed.join(', ') || 'none'}; offered: ${offered.join(', ') || 'none'}; ${where})`, { package: name, range, installed, offered });
    }
    const existing = await this.store.get(name, best);
    if (existing !== undefined && (this.options.force !== true || !offered.includes(best))) return { manifest: existing.manifest, staged: undefined, replaces: false };
    const staged = await this.stageOffer(name, best);
    return { manifest: staged.manifest, staged, replaces: existing !== undefined };
  }

  private async versions(name: string): Promise<string[]> {
    const offered = (await this.offered(name)).map((offer) => offer.version);
    return [...new Set([...(await this.store.versions(name)), ...offered])];
  }

  /** A package's dependencies: from the store, from the index, or from the staged archive. */
  private async node(name: string, version: string): Promise<DependencyNode> {
    const installed = await this.store.get(name, version);
    if (installed !== undefined) return installed.manifest;
    const offer = await this.offer(name, version);
    if (offer.dependencies !== undefined && !this.staged.has(key(name, version))) return { name, version, dependencies: offer.dependencies };
    return (await this.stageOffer(name, version)).manifest;
  }

  private async stageOffer(name: string, version: string): Promise<StagedPackage> {
    let pending = this.staged.get(key(name, version));
    if (pending === undefined) {
      pending = this.offer(name, version).then(async (offer) => {
        const staged = await this.stage(offer);
        if (offer.dependencies !== undefined && !sameDependencies(offer.dependencies, staged.manifest.dependencies)) {
          throw hsuError('PACKAGE_INDEX_INVALID', `${offer.repository} lists other dependencies for ${name}@${version} than its package.yaml`, { repository: offer.repository, package: name, version });
        }
        return staged;
      });
      this.staged.set(key(name, version), pending);
    }
    return pending;
  }

  private async offer(name: string, version: string): Promise<PackageCandidate> {
    const offer = (await this.offered(name)).find((candidate) => candidate.version === version);
    if (offer === undefined) throw hsuError('PACKAGE_NOT_FOUND', `${name}@${version} is in no repository`, { package: name, version });
    return offer;
  }

  /** What the repositories offer for `name`; the first repository wins a version offered twice. */
  private offered(name: string): Promise<PackageCandidate[]> {
    let pending = this.offers.get(name);
    if (pending === undefined) {
      pending = (async () => {
        const seen = new Map<string, PackageCandidate>();
        for (const repository of this.repositories) {
          for (const candidate of await repository.versions(name)) if (!seen.has(candidate.version)) seen.set(candidate.version, candidate);
        }
        return [...seen.values()];
      })();
      this.offers.set(name, pending);
    }
    return pending;
  }

  private async stage(source: ArchiveSource): Promise<StagedPackage> {
    this.signal.throwIfAborted();
    const tmp = await this.temp();
    const { layout, limits, trustedKeys, ca } = this.store;
    return stagePackage(source, tmp, { layout, limits, trustedKeys, ca, signal: this.signal, onProgress: this.options.onProgress });
  }

  private async commit(staged: StagedPackage, replaces: boolean): Promise<InstalledPackage> {
    this.signal.throwIfAborted();
    const { name, version } = staged.manifest;
    const dir = this.store.layout.versionDir(name, version);
    let replaced: string | undefined;
    try {
      await mkdir(path.dirname(dir), { recursive: true });
      if (replaces) {
        replaced = path.join(await this.temp(), 'replaced');
        await rename(dir, replaced);
      }
      await rename(staged.tree, dir);
    } catch (error) {
      if (replaced !== undefined) await rename(replaced, dir).catch(() => undefined);
      throw this.commitError(error, name, version);
    }
    this.committed.push({ dir, replaced });
    this.store.invalidate(dir);
    return this.store.require(name, version);
  }

  private commitError(error: unknown, name: string, version: string): HsuError {
    const errno = (error as NodeJS.ErrnoException).code;
    // Another process installed the same version between our check and our rename.
    if (errno === 'ENOTEMPTY' || errno === 'EEXIST') return hsuError('PACKAGE_EXISTS', `${name}@${version} was installed by someone else meanwhile`, { package: name, version }, error);
    return storeError(error, `installing ${name}@${version}`);
  }

  private async temp(): Promise<string> {
    const dir = await this.store.layout.makeTemp();
    this.temps.push(dir);
    return dir;
  }
}

interface Root {
  readonly manifest: PackageManifest;
  /** Set when the root must be committed; undefined when the requested version is installed. */
  readonly staged: StagedPackage | undefined;
  readonly replaces: boolean;
}

function key(name: string, version: string): string {
  return `${name}@${version}`;
}

function sameDependencies(a: readonly PackageDependency[], b: readonly PackageDependency[]): boolean {
  const text = (deps: readonly PackageDependency[]): string => JSON.stringify([...deps].map((dep) => [dep.name, dep.version]).sort());
  return text(a) === text(b);
}
