/**
 * The config fragments the master config gains for packages: the worker's `package:` key (with
 * what a packaged worker may still set in `execution:` and `module:`, and its upgrade keys), and
 * the master's `packages:` settings (repositories, trusted keys). Kept here so the core can spread
 * them into its schemas; {@link storeOptions} turns the settings into {@link PackageStoreOptions}.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { describeValue } from '../config/describe.js';
import { durationSchema, positiveDurationSchema } from '../config/duration.js';
import { withKeyHints } from '../config/key-hints.js';
import { yamlString } from '../config/schema-common.js';
import { resourceLimitsSchema } from '../config/schema-module.js';
import { hsuError } from '../errors.js';
import { parsePackageRef } from './repos/ref.js';
import type { PackageStoreOptions } from './store/store.js';

/** `package: data-processor:1.2.3` or `data-processor:^1.2`, parsed to name and range. */
const packageRefTextSchema = yamlString
  .superRefine((value, ctx) => {
    try {
      if (parsePackageRef(value).kind === 'package') return;
      ctx.addIssue({ code: 'custom', message: `expected name:version or name:range of an installed package, got ${describeValue(value)} (install archives with hsu package install)` });
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  })
  .transform((value) => {
    const ref = parsePackageRef(value);
    return ref.kind === 'package' ? { name: ref.name, range: ref.range } : { name: '', range: '' };
  });

/**
 * `name:version` or `name:range` as written; the parsed form is accepted too, so a parsed worker
 * config can be given to addWorker again (reload, the API) and parse to itself.
 */
export const packageRefSchema = z.union([packageRefTextSchema, z.strictObject({ name: z.string().min(1), range: z.string().min(1) })]);

export type WorkerPackageRef = z.output<typeof packageRefSchema>;

const FROM_PACKAGE = 'comes from the package; remove it (or drop `package:` to name the code yourself)';

/** `execution:` of a process worker that has `package:`: everything but the executable. */
export const packagedExecutionSchema = withKeyHints(
  z.strictObject({
    args: z.array(yamlString).optional(),
    environment: z.record(z.string(), yamlString).optional(),
    working_directory: yamlString.min(1).optional(),
    inherit_environment: z.boolean().optional(),
  }),
  { executable_path: `executable_path ${FROM_PACKAGE}` },
);

/** `module:` of a module worker that has `package:`: where and how, not which file. */
export const packagedModuleSchema = withKeyHints(
  z.strictObject({
    entry_point: yamlString.min(1).optional(),
    isolation: z.enum(['inline', 'thread']).optional(),
    config: z.record(z.string(), z.unknown()).optional(),
    resource_limits: resourceLimitsSchema.optional(),
  }),
  { module_path: `module_path ${FROM_PACKAGE}`, module_type: 'module_type is plugin for a packaged module', module_name: `module_name ${FROM_PACKAGE}` },
);

/**
 * Keys a worker config gains (spread into the process and module worker shapes). `package` makes
 * `execution.executable_path` / `module.module_path` come from the package; `allow_downgrade`
 * permits a reload to a lower version; `rollback_window` is how long a new version must stay
 * healthy before the previous one is no longer the fallback.
 */
export const workerPackageShape = {
  package: packageRefSchema.optional(),
  allow_downgrade: z.boolean().default(false),
  rollback_window: durationSchema.prefault('60s'),
};

/** The master's `packages:` section. Relative paths are relative to the config file. */
export const packagesSettingsSchema = z.strictObject({
  /** Directories, index.json files, or http(s) index URLs, searched in order. */
  repositories: z.array(yamlString.min(1)).prefault([]),
  /** Public keys (PEM or base64 text) or key files; when any is given, only signed packages install. */
  trusted_keys: z.array(yamlString.min(1)).prefault([]),
  /** A PEM file of extra CA certificates for https repositories. */
  ca_file: yamlString.min(1).optional(),
  idle_timeout: positiveDurationSchema.optional(),
  install_timeout: positiveDurationSchema.optional(),
  max_archive_bytes: z.number().int().positive().optional(),
  max_unpacked_bytes: z.number().int().positive().optional(),
});

export type PackagesSettings = z.output<typeof packagesSettingsSchema>;

/** Store options from the settings; paths that look like files resolve against `baseDir`. */
/** A repository or key as written in the config: a URL, PEM or base64 key as is, anything else a path against `baseDir`. */
export function localSpec(spec: string, baseDir: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(spec) || spec.startsWith('-----BEGIN') || isBase64Key(spec) ? spec : path.resolve(baseDir, spec);
}

export function storeOptions(settings: PackagesSettings, stateDir: string, baseDir: string): PackageStoreOptions {
  const local = (spec: string): string => localSpec(spec, baseDir);
  let ca: string | undefined;
  if (settings.ca_file !== undefined) {
    const file = path.resolve(baseDir, settings.ca_file);
    try {
      ca = readFileSync(file, 'utf8');
    } catch (error) {
      throw hsuError('CONFIG_INVALID', `packages.ca_file ${describeValue(file)} cannot be read: ${(error as Error).message}`, { file }, error);
    }
  }
  const limits = {
    ...(settings.idle_timeout === undefined ? {} : { idleTimeoutMs: settings.idle_timeout }),
    ...(settings.install_timeout === undefined ? {} : { installTimeoutMs: settings.install_timeout }),
    ...(settings.max_archive_bytes === undefined ? {} : { maxArchiveBytes: settings.max_archive_bytes }),
    ...(settings.max_unpacked_bytes === undefined ? {} : { maxUnpackedBytes: settings.max_unpacked_bytes }),
  };
  return { stateDir, repositories: settings.repositories.map(local), trustedKeys: settings.trusted_keys.map(local), ca, limits };
}

function isBase64Key(spec: string): boolean {
  return spec.length === 44 && /^[A-Za-z0-9+/]+=?$/.test(spec);
}
