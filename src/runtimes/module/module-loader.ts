/**
 * Loads a module's export (plugin file or native factory) and turns it into a WorkerModule
 * instance. Shared by the inline runtime and the thread/process hosts, so it must stay free of
 * heavy imports: it runs at the start of every thread and child host.
 */
import { pathToFileURL } from 'node:url';
import { hsuError } from '../../errors.js';
import { isWorkerModule } from '../../worker/define.js';
import type { ModuleExport, WorkerModule } from '../../worker/contract.js';
import { typeScriptLoadError } from './typescript-load-error.js';

export async function loadPluginExport(modulePath: string, entryPoint: string, workerId: string): Promise<ModuleExport> {
  const context = { worker_id: workerId, module_path: modulePath, entry_point: entryPoint };
  let isFile: boolean;
  try {
    // Not an ESM import of node:fs: its facade reads every export, and the stream getters among them
    // load fs streams, fs/promises and readline, ~2 ms of every thread's and host's start.
    isFile = process.getBuiltinModule('node:fs').statSync(modulePath).isFile();
  } catch {
    isFile = false;
  }
  if (!isFile) {
    throw hsuError('MODULE_FILE_NOT_FOUND', `worker '${workerId}': plugin module file not found: ${modulePath}`, context);
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw typeScriptLoadError(err, context) ?? hsuError('MODULE_LOAD_FAILED', `worker '${workerId}': cannot import ${modulePath}: ${reason}`, context, err);
  }
  if (!(entryPoint in namespace) || namespace[entryPoint] === undefined) {
    const available = Object.keys(namespace).filter((k) => namespace[k] !== undefined);
    throw hsuError(
      'MODULE_EXPORT_NOT_FOUND',
      `worker '${workerId}': ${modulePath} has no export named '${entryPoint}' (exports: ${available.join(', ') || 'none'})`,
      { ...context, available },
    );
  }
  const exported = namespace[entryPoint];
  if (typeof exported !== 'function' && !isWorkerModule(exported)) {
    throw hsuError(
      'MODULE_INVALID',
      `worker '${workerId}': export '${entryPoint}' of ${modulePath} is neither a module factory nor a module (need info.name and start())`,
      context,
    );
  }
  return exported as ModuleExport;
}

/** Calls the factory (or takes the module object) and checks the result is a module. */
export async function instantiateModule(exported: ModuleExport, workerId: string, source: string): Promise<WorkerModule> {
  let candidate: unknown = exported;
  if (typeof exported === 'function') {
    try {
      candidate = await exported();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw hsuError('MODULE_FACTORY_THREW', `worker '${workerId}': factory ${source} threw: ${reason}`, { worker_id: workerId, source }, err);
    }
  }
  if (!isWorkerModule(candidate)) {
    throw hsuError(
      'MODULE_INVALID',
      `worker '${workerId}': ${source} did not produce a worker module (need info: {name, version} and start())`,
      { worker_id: workerId, source },
    );
  }
  return candidate;
}
