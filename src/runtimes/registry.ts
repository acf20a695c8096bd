/**
 * Runtimes by kind. The master asks the registry which runtime runs a worker config; the four
 * built-in kinds are registered first, and a kind registered later is consulted before them, so an
 * application (or a later issue: unmanaged processes, a remote host) can add or refine a kind
 * without touching the controller or the master. A definition also says what `hsu validate` can
 * check about its configs without starting anything.
 */
import { hsuError } from '../errors.js';
import type { WorkerConfig } from '../config/index.js';
import type { Runtime, RuntimeKind } from '../lifecycle/runtime.js';
import type { CgroupManager } from '../os/cgroups/index.js';
import type { ProcessGroups } from '../os/process-groups.js';
import type { ModuleExport } from '../worker/contract.js';
import type { ModuleServices } from './module/module-services.js';
import type { AttributionScope } from './module/uncaught-attribution.js';
import type { OutputStream } from './output/index.js';
import type { ProcessTracker } from './process/process-runtime.js';

/** What the master gives a runtime it creates. */
export interface RuntimeContext {
  readonly logDir: string;
  readonly natives: ReadonlyMap<string, ModuleExport>;
  /** The uncaught-error attribution scope, acquired on first use; undefined when attribution is off. */
  readonly attribution: () => AttributionScope | undefined;
  readonly tracker: ProcessTracker | undefined;
  readonly groups: ProcessGroups;
  /** Calls and the bus, for modules (ctx.call, ctx.bus) in every deployment. */
  readonly services: ModuleServices;
  /** The master's cgroups, when it uses them (made on first use). */
  readonly cgroups: () => CgroupManager | undefined;
  readonly onLine: (workerId: string, stream: OutputStream, line: string, pid: number | undefined) => void;
}

export interface PreflightIssue {
  /** Key path inside the worker entry, e.g. `execution.executable_path`. */
  readonly path: string;
  /** `error`: `hsu run` cannot start it; `warning`: it may fail; `note`: what could not be checked. */
  readonly severity: 'error' | 'warning' | 'note';
  readonly message: string;
  readonly code?: string;
}

export interface PreflightContext {
  /** Native factory names the runner registers (`hsu run` registers none). */
  readonly natives: ReadonlySet<string>;
}

export interface RuntimeDefinition {
  readonly kind: RuntimeKind;
  /** One line for `hsu validate` and the docs. */
  readonly description: string;
  /** Does this runtime run `config`? */
  matches(config: WorkerConfig): boolean;
  create(config: WorkerConfig, ctx: RuntimeContext): Runtime;
  /** What can be checked without starting anything. */
  preflight?(config: WorkerConfig, ctx: PreflightContext): Promise<PreflightIssue[]>;
}

export class RuntimeRegistry {
  private readonly definitions: RuntimeDefinition[] = [];

  register(definition: RuntimeDefinition): this {
    if (this.definitions.some((d) => d.kind === definition.kind)) {
      throw hsuError('RUNTIME_EXISTS', `a runtime of kind '${definition.kind}' is already registered`, { kind: definition.kind });
    }
    // Newest first: a registered kind can take over configs a built-in would also match.
    this.definitions.unshift(definition);
    return this;
  }

  kinds(): RuntimeKind[] {
    return this.definitions.map((d) => d.kind);
  }

  resolve(config: WorkerConfig): RuntimeDefinition {
    const found = this.definitions.find((d) => d.matches(config));
    if (found === undefined) {
      throw hsuError('RUNTIME_NOT_FOUND', `worker '${config.id}': no registered runtime runs this config (kinds: ${this.kinds().join(', ')})`, { worker_id: config.id, kinds: this.kinds() });
    }
    return found;
  }
}
