/**
 * Workers from packages: the pure function that turns an installed package plus the worker's own
 * keys (see config-schema.ts for the `package:` key) into the worker config the master runs. The package supplies the code (executable or module file) and defaults (args,
 * working directory, health check); the worker's keys override the defaults, never the code.
 *
 * The output is the main config's input shape, so it goes through the same worker schema and
 * resolution as a hand-written worker.
 */
import type * as z from 'zod';
import { configErrorMap, formatIssues, toConfigIssues } from '../config/issues.js';
import type { WorkerConfigInput } from '../config/schema.js';
import { hsuError } from '../errors.js';
import { packagedExecutionSchema, packagedModuleSchema } from './config-schema.js';
import type { PackageHealthCheck } from './manifest/schema.js';
import { assertSupports } from './manifest/supports.js';
import type { ResolvedPackage } from './store/store.js';

/** The keys of a worker config this function reads; everything else passes through unchanged. */
export interface PackagedWorkerInput {
  readonly id: string;
  readonly type: 'process' | 'module';
  readonly package?: unknown;
  readonly execution?: z.input<typeof packagedExecutionSchema> | undefined;
  readonly module?: z.input<typeof packagedModuleSchema> | undefined;
  readonly health_check?: Readonly<Record<string, unknown>> | undefined;
  readonly [key: string]: unknown;
}

/**
 * The worker config to run `pkg` as `worker` describes: `type: process` runs the package's
 * executable (args and working directory defaulting to the package's), `type: module` loads its
 * module file as a plugin. The type must be in the package's supported_types.
 */
export function planPackagedWorker(pkg: ResolvedPackage, worker: PackagedWorkerInput): WorkerConfigInput {
  assertSupports(pkg.manifest, worker.type, { worker_id: worker.id });
  const { package: _ref, execution, module, health_check: ownHealth, ...rest } = worker;
  const health = mergeHealthCheck(pkg, worker.id, ownHealth);
  const healthKey = health === undefined ? {} : { health_check: health };
  if (worker.type === 'process') {
    const proc = pkg.process;
    if (proc === undefined) throw unsupported(pkg, worker.id);
    const block = parseBlock(packagedExecutionSchema, execution, worker.id, 'execution');
    return {
      ...rest,
      ...healthKey,
      id: worker.id,
      type: 'process',
      execution: {
        executable_path: proc.executable_path,
        args: block.args ?? [...proc.args],
        environment: { ...packageEnvironment(pkg), ...block.environment },
        working_directory: block.working_directory ?? pkg.root,
        ...(block.inherit_environment === undefined ? {} : { inherit_environment: block.inherit_environment }),
      },
    } as WorkerConfigInput;
  }
  const mod = pkg.module;
  if (mod === undefined) throw unsupported(pkg, worker.id);
  const block = parseBlock(packagedModuleSchema, module, worker.id, 'module');
  return {
    ...rest,
    ...healthKey,
    id: worker.id,
    type: 'module',
    module: { ...block, module_type: 'plugin', module_path: mod.module_path, entry_point: block.entry_point ?? mod.entry_point },
  } as WorkerConfigInput;
}

/** What a process started from a package finds in its environment. */
export function packageEnvironment(pkg: ResolvedPackage): Record<string, string> {
  const env: Record<string, string> = { HSU_PACKAGE_NAME: pkg.name, HSU_PACKAGE_VERSION: pkg.version, HSU_PACKAGE_ROOT: pkg.root };
  for (const dep of pkg.dependencies) env[`HSU_PACKAGE_DEP_${dep.name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_ROOT`] = dep.root;
  return env;
}

/**
 * The package's health check defaults under the worker's keys. A worker naming another probe
 * type starts from nothing; an HTTP `endpoint` becomes a `url` on 127.0.0.1 (or `host`) and `port`.
 */
export function mergeHealthCheck(pkg: ResolvedPackage, workerId: string, own: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  const defaults: PackageHealthCheck | undefined = pkg.health_check;
  if (defaults === undefined && own === undefined) return undefined;
  const sameType = own?.type === undefined || own.type === defaults?.type;
  const merged: Record<string, unknown> = { ...(sameType ? dropUndefined(defaults ?? {}) : {}), ...own };
  const { endpoint, host, port, url, ...common } = merged;
  switch (merged.type) {
    case 'http': {
      if (url !== undefined) return { ...common, url };
      if (endpoint === undefined || port === undefined) {
        throw hsuError('CONFIG_INVALID', `worker ${workerId}: the health check of ${pkg.name}@${pkg.version} is HTTP${endpoint === undefined ? '' : ` on ${String(endpoint)}`}; give the worker health_check.port (or health_check.url)`, { worker_id: workerId, package: pkg.name });
      }
      return { ...common, url: `http://${typeof host === 'string' ? host : '127.0.0.1'}:${String(port)}${String(endpoint)}` };
    }
    case 'tcp':
      return { ...common, ...(host === undefined ? {} : { host }), ...(port === undefined ? {} : { port }) };
    default:
      return common;
  }
}

/** The worker's block checked with the schema that says which keys a packaged worker may set. */
function parseBlock<S extends z.ZodType>(schema: S, value: unknown, workerId: string, key: string): z.output<S> {
  const result = schema.safeParse(value ?? {}, { error: configErrorMap });
  if (result.success) return result.data;
  const issues = toConfigIssues(result.error.issues, { schema, data: value }).map((issue) => ({ ...issue, path: issue.path === '' ? key : `${key}.${issue.path}` }));
  throw hsuError('CONFIG_INVALID', `worker ${workerId} uses a package:\n${formatIssues(issues).replace(/^/gm, '  ')}`, { worker_id: workerId, issues });
}

function dropUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function unsupported(pkg: ResolvedPackage, workerId: string): Error {
  return hsuError('PACKAGE_UNSUPPORTED_TYPE', `${pkg.name}@${pkg.version} has no section for this deployment (worker ${workerId})`, { worker_id: workerId, supported_types: pkg.manifest.supported_types });
}
