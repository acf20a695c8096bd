/**
 * Workers from packages, when a config file is loaded: every worker entry with `package:` is
 * resolved in the store of the master's state directory (installed first from the configured
 * repositories when `install` is set and no installed version fits), and replaced by the worker
 * the package describes (planPackagedWorker), so the rest of the config machinery sees an
 * ordinary worker. Problems come back as located issues (`workers[2].package`), never a throw.
 */
import path from 'node:path';
import { DEFAULTS } from '../config/defaults.js';
import type { IssuePath } from '../config/issues.js';
import { isHsuError } from '../errors.js';
import { packageRefSchema, packagesSettingsSchema, storeOptions } from './config-schema.js';
import type { PackageStore } from './store/store.js';
import { planPackagedWorker, type PackagedWorkerInput } from './worker-plan.js';

export interface ExpandOptions {
  /** The config file's directory: relative state_dir and repository paths resolve against it. */
  readonly baseDir: string;
  /** Install a package that is not installed yet (hsu run, reload); `hsu validate` only looks. */
  readonly install: boolean;
}

type Issue = { path: IssuePath; message: string };

export async function expandPackages(data: unknown, options: ExpandOptions): Promise<{ data: unknown; issues: Issue[] }> {
  const root = data as { master?: Record<string, unknown>; workers?: unknown[] } | null;
  const workers = root?.workers;
  if (!Array.isArray(workers) || !workers.some((w) => typeof w === 'object' && w !== null && 'package' in w)) return { data, issues: [] };
  const issues: Issue[] = [];
  const settings = packagesSettingsSchema.safeParse(root?.master?.packages ?? {});
  if (!settings.success) return { data, issues: [] }; // the schema reports the settings themselves
  const stateDir = path.resolve(options.baseDir, typeof root?.master?.state_dir === 'string' ? root.master.state_dir : DEFAULTS.master.state_dir);
  // The store (tar, semver, signatures) loads only for a config that names a package.
  const { PackageStore } = await import('./store/store.js');
  const store = new PackageStore(storeOptions(settings.data, stateDir, options.baseDir));
  const expanded = await Promise.all(
    workers.map(async (entry: unknown, index) => {
      if (typeof entry !== 'object' || entry === null || !('package' in entry)) return entry;
      const worker = entry as PackagedWorkerInput;
      const ref = packageRefSchema.safeParse(worker.package);
      if (!ref.success) return entry; // the schema reports the ref
      const type = worker.type === 'module' ? 'module' : 'process';
      try {
        const resolved = await resolveOrInstall(store, ref.data.name, ref.data.range, type, options.install);
        // The reference as resolved (`name:version`): a reload that resolves to another version is a change of the worker.
        return { ...planPackagedWorker(resolved, worker), package: `${resolved.name}:${resolved.version}` };
      } catch (error) {
        issues.push({ path: ['workers', index, 'package'], message: isHsuError(error) ? error.message : String(error) });
        return entry;
      }
    }),
  );
  return { data: { ...root, workers: expanded }, issues };
}

async function resolveOrInstall(store: PackageStore, name: string, range: string, type: 'process' | 'module', install: boolean): ReturnType<PackageStore['resolve']> {
  try {
    return await store.resolve(name, range, { type });
  } catch (error) {
    if (!install || store.repositories.length === 0 || !isHsuError(error, 'PACKAGE_NOT_FOUND')) throw error;
    await store.install(`${name}:${range}`, { target: type });
    return store.resolve(name, range, { type });
  }
}
