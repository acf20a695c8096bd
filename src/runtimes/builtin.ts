/**
 * The four built-in runtimes and what `hsu validate` can check of each: a process worker runs an
 * executable; a process worker with a `module` block hosts a plugin in hsu's own child; a module
 * worker runs inline or in a thread. This is the only place that knows the deployment matrix.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { adoptable, configHash, type ModuleBlock, type WorkerConfig } from '../config/index.js';
import { which } from '../os/which.js';
import { HostRuntime } from './module/host/host-runtime.js';
import { InlineRuntime } from './module/inline/inline-runtime.js';
import { scanExports } from './module/module-exports.js';
import type { ModuleSource } from './module/module-source.js';
import { ThreadRuntime } from './module/thread/thread-runtime.js';
import { OutputCapture } from './output/index.js';
import { resolveLogSettings } from './output/logs-config.js';
import { ProcessRuntime, checkExecution, type ProcessRuntimeOptions } from './process/process-runtime.js';
import type { PreflightIssue, RuntimeContext, RuntimeDefinition, RuntimeRegistry } from './registry.js';
import { UnmanagedRuntime } from './unmanaged/unmanaged-runtime.js';

type ProcessWorker = Extract<WorkerConfig, { type: 'process' }>;
type ModuleWorker = Extract<WorkerConfig, { type: 'module' }>;

/** What a process worker's config says about its process itself: limits, user, umask, rlimits, cgroup. */
function processSetup(config: ProcessWorker, ctx: RuntimeContext): Pick<ProcessRuntimeOptions, 'cgroups' | 'limits' | 'launch'> {
  const cgroups = ctx.cgroups();
  return {
    ...(cgroups === undefined ? {} : { cgroups }),
    ...(config.limits === undefined ? {} : { limits: config.limits }),
    launch: {
      ...(config.user === undefined ? {} : { user: config.user }),
      ...(config.group === undefined ? {} : { group: config.group }),
      ...(config.umask === undefined ? {} : { umask: config.umask }),
      ...(config.rlimits === undefined ? {} : { rlimits: config.rlimits }),
    },
  };
}

function lineFor(ctx: RuntimeContext, id: string): (stream: 'stdout' | 'stderr', line: string, pid: number | undefined) => void {
  return (stream, line, pid) => ctx.onLine(id, stream, line, pid);
}

export const processRuntime: RuntimeDefinition = {
  kind: 'process',
  description: 'an executable in its own process group',
  matches: (config) => config.type === 'process' && config.execution !== undefined,
  create: (config, ctx) => {
    const { id, execution, integration, management, wait_ready } = config as ProcessWorker & { execution: NonNullable<ProcessWorker['execution']> };
    const integrated = management === 'integrated';
    return new ProcessRuntime({
      workerId: id,
      ...(integrated ? { integration: { port: integration?.port ?? 0, host: integration?.host ?? '127.0.0.1', portEnv: integration?.port_env ?? 'PORT' } } : {}),
      waitReady: wait_ready,
      executablePath: execution.executable_path,
      args: execution.args,
      environment: execution.environment,
      inheritEnvironment: execution.inherit_environment,
      workingDirectory: execution.working_directory ?? process.cwd(),
      logDir: ctx.logDir,
      onLine: lineFor(ctx, id),
      groups: ctx.groups,
      ...processSetup(config as ProcessWorker, ctx),
      ...(adoptable(config) ? { adoption: { hash: configHash(config) } } : {}),
      logs: resolveLogSettings(config.logs),
      ...(ctx.tracker === undefined ? {} : { tracker: ctx.tracker }),
    });
  },
  preflight: (config) => {
    const { id, execution } = config as ProcessWorker & { execution: NonNullable<ProcessWorker['execution']> };
    const env = execution.inherit_environment ? { ...process.env, ...execution.environment } : execution.environment;
    const cwd = path.resolve(execution.working_directory ?? process.cwd());
    const problem = checkExecution(id, execution.executable_path, cwd, which(execution.executable_path, { pathEnv: env.PATH, cwd }));
    if (problem === undefined) return Promise.resolve([]);
    const key = (problem as { code?: string }).code === 'HSU_ERR_WORKING_DIRECTORY_NOT_FOUND' ? 'execution.working_directory' : 'execution.executable_path';
    return Promise.resolve([{ path: key, severity: 'error', message: problem.message, code: (problem as { code?: string }).code }]);
  },
};

export const hostRuntime: RuntimeDefinition = {
  kind: 'host',
  description: "a plugin module in hsu's own child process",
  matches: (config) => config.type === 'process' && config.execution === undefined && config.module !== undefined,
  create: (config, ctx) => {
    const { id, module: block, stop_timeout, stop_signal } = config as ProcessWorker & { module: NonNullable<ProcessWorker['module']> };
    return new HostRuntime({
      workerId: id,
      modulePath: block.module_path,
      entryPoint: block.entry_point,
      config: block.config,
      logDir: ctx.logDir,
      onLine: lineFor(ctx, id),
      stopTimeoutMs: stop_timeout,
      stopSignal: stop_signal as NodeJS.Signals,
      groups: ctx.groups,
      services: ctx.services,
      ...processSetup(config as ProcessWorker, ctx),
      ...(ctx.tracker === undefined ? {} : { tracker: ctx.tracker }),
      ...(block.resource_limits === undefined ? {} : { resourceLimits: block.resource_limits }),
      logs: resolveLogSettings(config.logs),
    });
  },
  preflight: (config) => {
    const block = (config as ProcessWorker).module;
    return block === undefined ? Promise.resolve([]) : checkPlugin(block.module_path, block.entry_point, 'module');
  },
};

export const threadRuntime: RuntimeDefinition = {
  kind: 'thread',
  description: 'a plugin module in a worker thread',
  matches: (config) => config.type === 'module' && config.module.isolation === 'thread',
  create: (config, ctx) => {
    const { id, module: block, stop_timeout } = config as ModuleWorker;
    if (block.module_type !== 'plugin') throw new Error(`worker '${id}': a native factory cannot run in a thread`); // the schema refuses this
    return new ThreadRuntime({
      workerId: id,
      modulePath: block.module_path,
      entryPoint: block.entry_point,
      config: block.config,
      output: new OutputCapture({ workerId: id, logDir: ctx.logDir, onLine: lineFor(ctx, id), logs: resolveLogSettings(config.logs) }),
      stopTimeoutMs: stop_timeout,
      services: ctx.services,
      ...(block.resource_limits === undefined ? {} : { resourceLimits: block.resource_limits }),
    });
  },
  preflight: (config) => modulePreflight((config as ModuleWorker).module, new Set()),
};

export const inlineRuntime: RuntimeDefinition = {
  kind: 'inline',
  description: "a module in the master's event loop",
  matches: (config) => config.type === 'module' && config.module.isolation === 'inline',
  create: (config, ctx) => {
    const { id, module: block, stop_timeout } = config as ModuleWorker;
    const source: ModuleSource =
      block.module_type === 'native'
        ? { kind: 'native', name: block.module_name, lookup: (name) => ctx.natives.get(name), available: () => [...ctx.natives.keys()] }
        : { kind: 'plugin', path: block.module_path, entryPoint: block.entry_point };
    return new InlineRuntime({ workerId: id, source, config: block.config, stopTimeoutMs: stop_timeout, attribution: ctx.attribution(), services: ctx.services });
  },
  preflight: (config, ctx) => modulePreflight((config as ModuleWorker).module, ctx.natives),
};

export const unmanagedRuntime: RuntimeDefinition = {
  kind: 'unmanaged',
  description: 'a process started by someone else, attached to and watched',
  matches: (config) => config.type === 'process' && config.management === 'unmanaged',
  create: (config) => {
    const { id, unmanaged } = config as ProcessWorker;
    if (unmanaged === undefined) throw new Error(`worker '${id}': unmanaged without an unmanaged block`); // the schema refuses this
    return new UnmanagedRuntime({ workerId: id, config: unmanaged });
  },
  preflight: (config) => {
    const u = (config as ProcessWorker).unmanaged;
    if (u?.pid_file === undefined) return Promise.resolve([]);
    return Promise.resolve(
      existsSync(u.pid_file) ? [] : [{ path: 'unmanaged.pid_file', severity: 'warning' as const, message: `pid file ${u.pid_file} does not exist (yet): the worker attaches once it does` }],
    );
  },
};

/** Registers the built-in kinds (the most general last, so later registrations take precedence). */
export function registerBuiltinRuntimes(registry: RuntimeRegistry): RuntimeRegistry {
  return registry.register(inlineRuntime).register(threadRuntime).register(hostRuntime).register(processRuntime).register(unmanagedRuntime);
}

function modulePreflight(block: ModuleBlock, natives: ReadonlySet<string>): Promise<PreflightIssue[]> {
  if (block.module_type === 'plugin') return checkPlugin(block.module_path, block.entry_point, 'module');
  if (natives.has(block.module_name)) return Promise.resolve([]);
  return Promise.resolve([
    {
      path: 'module.module_name',
      severity: 'error',
      code: 'HSU_ERR_MODULE_FACTORY_NOT_FOUND',
      message: `native module '${block.module_name}' is not registered by this runner: native factories are registered in code (Master.registerNativeModuleFactory), so \`hsu run\` cannot start it; run it from a program that registers it, or declare it with --native ${block.module_name}`,
    },
  ]);
}

async function checkPlugin(modulePath: string, entryPoint: string, key: string): Promise<PreflightIssue[]> {
  let isFile = false;
  try {
    isFile = statSync(modulePath).isFile();
  } catch {
    // reported below
  }
  if (!isFile) return [{ path: `${key}.module_path`, severity: 'error', code: 'HSU_ERR_MODULE_FILE_NOT_FOUND', message: `plugin module file not found: ${modulePath}` }];
  const scan = await scanExports(modulePath);
  if (!scan.ok) return [{ path: `${key}.entry_point`, severity: 'note', message: `could not check that ${modulePath} exports '${entryPoint}': ${scan.reason}` }];
  if (scan.names.includes(entryPoint)) return [];
  if (scan.reexportsAll.length > 0) {
    return [{ path: `${key}.entry_point`, severity: 'note', message: `'${entryPoint}' is not exported by ${modulePath} itself; it may come from export * of ${scan.reexportsAll.join(', ')}, which is not followed` }];
  }
  return [
    {
      path: `${key}.entry_point`,
      severity: 'error',
      code: 'HSU_ERR_MODULE_EXPORT_NOT_FOUND',
      message: `${modulePath} has no export named '${entryPoint}' (exports: ${scan.names.join(', ') || 'none'})`,
    },
  ];
}
