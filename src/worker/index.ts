// Public face of `hsu/worker`: everything a module author needs, with no runtime dependencies.
export type {
  Action,
  ActionMap,
  ActionsOf,
  CallContext,
  ModuleContext,
  ModuleExport,
  ModuleFactory,
  ModuleInfo,
  ModuleBus,
  ModuleCallOptions,
  ModuleLogger,
  WorkerEndpoint,
  WorkerModule,
} from './contract.js';
export { defineModule, isWorkerModule } from './define.js';
export type { CallOptions, Client } from './define.js';
