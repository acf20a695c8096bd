/**
 * The package store: versions side by side under `<state_dir>/packages`, and the operations on
 * them. Mutations (install, remove, setCurrent, rollback) run one at a time per store object;
 * across processes, atomic renames keep every listed version whole.
 *
 * @example
 * const store = new PackageStore({ stateDir: '.hsu', trustedKeys: ['keys/release.pub'] });
 * await store.install('dist/data-processor-1.2.3.tgz', { target: 'both' });
 * const pkg = await store.resolve('data-processor', '^1.2.0', { type: 'module' });
 * // pkg.module.module_path is absolute; pkg.health_check holds the package's defaults
 */
import { readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import semver from 'semver';
import { hsuError } from '../../errors.js';
import { loadTrustedKeys } from '../archive/signing.js';
import type { TrustedKey } from '../archive/signing.js';
import { storeError } from '../io-errors.js';
import { withLimits } from '../limits.js';
import type { PackageLimits } from '../limits.js';
import { readManifestFile } from '../manifest/load.js';
import { isExactVersion, isPackageName } from '../manifest/rules.js';
import type { PackageHealthCheck, PackageManifest, PackageType } from '../manifest/schema.js';
import { assertSupports } from '../manifest/supports.js';
import type { PackageRef } from '../repos/ref.js';
import { CurrentBook, DEFAULT_SCOPE } from './current.js';
import type { CurrentRecord, SetCurrentOptions } from './current.js';
import { resolveDependencies } from './dependencies.js';
import { installPackage } from './install.js';
import type { InstallOptions, InstallResult } from './install.js';
import { StoreLayout } from './layout.js';
import { readReceipt } from './receipt.js';
import type { Receipt } from './receipt.js';
import { verifyInstalled } from './verify.js';
import type { VerifyReport } from './verify.js';

export interface PackageStoreOptions {
  /** The master's state directory; the store lives in `<stateDir>/packages`. */
  readonly stateDir: string;
  /** Key text (PEM or base64) or key files. When any is given, only packages they signed install. */
  readonly trustedKeys?: readonly (string | TrustedKey)[] | undefined;
  /** Repositories searched for `name:range` (directories, index.json files, http(s) index URLs). */
  readonly repositories?: readonly string[] | undefined;
  readonly limits?: Partial<PackageLimits> | undefined;
  /** Extra CA certificates (PEM) for https repositories. */
  readonly ca?: string | undefined;
}

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the package root (where package.yaml is). */
  readonly root: string;
  readonly manifest: PackageManifest;
  readonly receipt: Receipt;
}

export interface ResolvedDependency {
  readonly name: string;
  readonly version: string;
  readonly root: string;
}

/** An installed package with every path absolute, ready for a worker. */
export interface ResolvedPackage extends InstalledPackage {
  /** `executable_path` is absolute, or a bare command name to look up in PATH. */
  readonly process: { readonly executable_path: string; readonly args: readonly string[] } | undefined;
  readonly module: { readonly module_path: string; readonly entry_point: string } | undefined;
  readonly health_check: PackageHealthCheck | undefined;
  /** The package's dependency closure, one version per name. */
  readonly dependencies: readonly ResolvedDependency[];
}

export class PackageStore {
  readonly layout: StoreLayout;
  readonly limits: PackageLimits;
  readonly trustedKeys: readonly TrustedKey[];
  readonly repositories: readonly string[];
  readonly ca: string | undefined;
  private readonly book: CurrentBook;
  private readonly loaded = new Map<string, Promise<InstalledPackage>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: PackageStoreOptions) {
    this.layout = StoreLayout.forStateDir(options.stateDir);
    this.limits = withLimits(options.limits);
    const keys = options.trustedKeys ?? [];
    this.trustedKeys = [...keys.filter((key): key is TrustedKey => typeof key !== 'string'), ...loadTrustedKeys(keys.filter((key): key is string => typeof key === 'string'))];
    this.repositories = options.repositories ?? [];
    this.ca = options.ca;
    this.book = new CurrentBook(this.layout);
  }

  get root(): string {
    return this.layout.root;
  }

  /** Installs a package (and the dependencies it lacks) atomically; see {@link InstallOptions}. */
  install(ref: string | PackageRef, options: InstallOptions = {}): Promise<InstallResult> {
    return this.serial(() => installPackage(this, ref, options));
  }

  /** Every installed version, by name then version. */
  async list(): Promise<InstalledPackage[]> {
    const out: InstalledPackage[] = [];
    for (const name of await this.names()) {
      for (const version of await this.versions(name)) {
        const pkg = await this.get(name, version).catch(() => undefined);
        if (pkg !== undefined) out.push(pkg);
      }
    }
    return out;
  }

  /** Installed versions of `name`, ascending. */
  async versions(name: string): Promise<string[]> {
    if (!isPackageName(name)) return [];
    const entries = await readdir(this.layout.packageDir(name), { withFileTypes: true }).catch(() => []);
    return semver.sort(entries.filter((entry) => entry.isDirectory() && isExactVersion(entry.name)).map((entry) => entry.name));
  }

  async get(name: string, version: string): Promise<InstalledPackage | undefined> {
    if (!(await this.versions(name)).includes(version)) return undefined;
    const root = this.layout.versionDir(name, version);
    let pending = this.loaded.get(root);
    if (pending === undefined) {
      pending = this.load(name, version, root);
      this.loaded.set(root, pending);
      pending.catch(() => this.loaded.delete(root));
    }
    return pending;
  }

  /**
   * The highest installed version of `name` matching `rangeOrVersion`, with absolute paths, its
   * defaults and its dependency closure; `type` checks it against supported_types.
   */
  async resolve(name: string, rangeOrVersion = '*', options: { type?: PackageType } = {}): Promise<ResolvedPackage> {
    const installed = await this.versions(name);
    const version = semver.maxSatisfying(installed, rangeOrVersion);
    if (version === null) {
      const have = installed.length === 0 ? 'none is installed' : `installed: ${installed.join(', ')}`;
      throw hsuError('PACKAGE_NOT_FOUND', `no installed version of ${name} matches ${rangeOrVersion} (${have}); install it with: hsu package install ${name}:${rangeOrVersion}`, { package: name, range: rangeOrVersion, installed });
    }
    const pkg = await this.require(name, version);
    if (options.type !== undefined) assertSupports(pkg.manifest, options.type);
    const closure = await resolveDependencies(pkg.manifest, {
      versions: (dep) => this.versions(dep),
      node: async (dep, depVersion) => (await this.require(dep, depVersion)).manifest,
    });
    const dependencies = [...closure].map(([dep, depVersion]) => ({ name: dep, version: depVersion, root: this.layout.versionDir(dep, depVersion) }));
    const { process: proc, module: mod, health_check } = pkg.manifest;
    return {
      ...pkg,
      process: proc === undefined ? undefined : { executable_path: proc.executable_path.includes('/') ? path.join(pkg.root, proc.executable_path) : proc.executable_path, args: proc.args },
      module: mod === undefined ? undefined : { module_path: path.join(pkg.root, mod.module_path), entry_point: mod.entry_point },
      health_check,
      dependencies,
    };
  }

  /**
   * Removes one version, or every version of `name`. Refused (PACKAGE_IN_USE) for a version that is
   * current or kept as previous in some scope, or that another installed package needs, unless `force`.
   */
  remove(name: string, version?: string, options: { force?: boolean } = {}): Promise<string[]> {
    return this.serial(async () => {
      const versions = version === undefined ? await this.versions(name) : [version];
      if (versions.length === 0) throw hsuError('PACKAGE_NOT_FOUND', `${name} is not installed`, { package: name });
      const installed = await this.versions(name);
      for (const v of versions) {
        // Judged by the directory alone, so a damaged version (unreadable receipt) can still be removed.
        if (!installed.includes(v)) throw hsuError('PACKAGE_NOT_FOUND', `${name}@${v} is not installed`, { package: name, version: v });
        if (options.force !== true) await this.assertUnused(name, v, versions);
      }
      const trash = await this.layout.makeTemp();
      try {
        for (const v of versions) {
          const dir = this.layout.versionDir(name, v);
          // One rename takes the version out of the listing; the slow delete happens out of sight.
          await rename(dir, path.join(trash, v)).catch((error: unknown) => Promise.reject(storeError(error, `removing ${dir}`)));
          this.loaded.delete(dir);
        }
        if ((await this.versions(name)).length === 0) await rm(this.layout.packageDir(name), { recursive: true, force: true });
      } finally {
        await this.layout.removeTemp(trash);
      }
      return versions.map((v) => `${name}@${v}`);
    });
  }

  /** Checks installed versions against their archives and the trusted keys; all, one name or one version. */
  async verify(name?: string, version?: string): Promise<VerifyReport[]> {
    const names = name === undefined ? await this.names() : [name];
    const reports: VerifyReport[] = [];
    for (const n of names) {
      const installed = await this.versions(n);
      const versions = version === undefined ? installed : [version];
      if (name !== undefined && (versions.length === 0 || !versions.every((v) => installed.includes(v)))) {
        throw hsuError('PACKAGE_NOT_FOUND', `${version === undefined ? n : `${n}@${version}`} is not installed`, { package: n, version });
      }
      for (const v of versions) reports.push(await verifyInstalled(this, n, v));
    }
    return reports;
  }

  /** Marks `version` current for a scope (default `default`); the old current becomes `previous`. */
  setCurrent(name: string, version: string, options: SetCurrentOptions = {}): Promise<CurrentRecord> {
    return this.serial(async () => {
      await this.require(name, version);
      return this.book.set(name, version, options);
    });
  }

  /** Current and previous version for a scope, or undefined when none was ever set. */
  current(name: string, scope: string = DEFAULT_SCOPE): Promise<CurrentRecord | undefined> {
    return this.book.get(name, scope);
  }

  /** Every scope's current/previous record for `name`. */
  currentScopes(name: string): Promise<Record<string, CurrentRecord>> {
    return this.book.read(name);
  }

  /** Makes the previous version current again (and the failed one previous). */
  rollback(name: string, scope: string = DEFAULT_SCOPE): Promise<CurrentRecord> {
    return this.serial(async () => {
      const record = await this.book.get(name, scope);
      if (record?.previous != null) await this.require(name, record.previous);
      return this.book.rollback(name, scope);
    });
  }

  forgetScope(name: string, scope: string): Promise<void> {
    return this.serial(() => this.book.forget(name, scope));
  }

  /** Installed package or PACKAGE_NOT_FOUND. */
  async require(name: string, version: string): Promise<InstalledPackage> {
    const pkg = await this.get(name, version);
    if (pkg === undefined) throw hsuError('PACKAGE_NOT_FOUND', `${name}@${version} is not installed`, { package: name, version });
    return pkg;
  }

  /** Forgets cached manifests of a version directory (after install replaced it). */
  invalidate(root: string): void {
    this.loaded.delete(root);
  }

  private async names(): Promise<string[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    return entries.filter((entry) => entry.isDirectory() && isPackageName(entry.name)).map((entry) => entry.name).sort();
  }

  private async load(name: string, version: string, root: string): Promise<InstalledPackage> {
    const receipt = await readReceipt(this.layout.receiptFile(root));
    const manifest = await readManifestFile(root, root, this.limits.maxManifestBytes);
    return { name, version, root, manifest, receipt };
  }

  private async assertUnused(name: string, version: string, leaving: readonly string[]): Promise<void> {
    const holders = await this.book.holders(name, version);
    if (holders.length > 0) {
      const what = holders.map((holder) => `${holder.as} for ${holder.scope}`).join(', ');
      throw hsuError('PACKAGE_IN_USE', `${name}@${version} is ${what}; remove it with --force, or make another version current first`, { package: name, version, holders });
    }
    const staying = (await this.versions(name)).filter((v) => !leaving.includes(v));
    for (const other of await this.list()) {
      const dep = other.manifest.dependencies.find((d) => d.name === name);
      if (other.name === name || dep === undefined || !semver.satisfies(version, dep.version) || staying.some((v) => semver.satisfies(v, dep.version))) continue;
      throw hsuError('PACKAGE_IN_USE', `${name}@${version} is needed by ${other.name}@${other.version} (${dep.version}); remove that first or use --force`, { package: name, version, needed_by: `${other.name}@${other.version}` });
    }
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
