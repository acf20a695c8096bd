/** Where a module comes from: a factory registered in code, or a plugin file with a named export. */
import type { ModuleExport } from '../../worker/contract.js';
import { hsuError } from '../../errors.js';
import { loadPluginExport } from './module-loader.js';

export type ModuleSource =
  | { readonly kind: 'native'; readonly name: string; readonly lookup: (name: string) => ModuleExport | undefined; readonly available: () => string[] }
  | { readonly kind: 'plugin'; readonly path: string; readonly entryPoint: string };

export function describeSource(source: ModuleSource): string {
  return source.kind === 'native' ? `native factory '${source.name}'` : `${source.path}#${source.entryPoint}`;
}

/** Resolved at launch, not at add time, so a missing factory is a failed start in diagnostics, not a lost worker. */
export async function resolveSource(source: ModuleSource, workerId: string): Promise<ModuleExport> {
  if (source.kind === 'plugin') return loadPluginExport(source.path, source.entryPoint, workerId);
  const found = source.lookup(source.name);
  if (found === undefined) {
    const available = source.available();
    throw hsuError(
      'MODULE_FACTORY_NOT_FOUND',
      `worker '${workerId}': no native module factory '${source.name}' is registered (registered: ${available.join(', ') || 'none'})`,
      { worker_id: workerId, module_name: source.name, available },
    );
  }
  return found;
}
