/**
 * A runtime kind of the tests' own, registered through master.registerRuntime: it runs a worker
 * as an in-memory instance in this process. It claims `type: process` configs whose id starts
 * with its prefix (configs the built-in process runtime would also match), and `execution.args[0]`
 * picks how its instances behave:
 *   ok            start, answer calls, stop on request
 *   stop-throws   stop() throws synchronously (a runtime breaking its contract)
 *   exit-rejects  the exited promise rejects when stopped or when `breakExit` is called
 */
import type { ExitInfo, Instance, LaunchContext, Runtime, RuntimeDetails, StopRequest, WorkerConfig } from '../../src/index.js';
import type { RuntimeDefinition } from '../../src/index.js';
import { hsuError, serializeError } from '../../src/errors.js';

export type MemoryMode = 'ok' | 'stop-throws' | 'exit-rejects';

export class MemoryInstance implements Instance {
  readonly pid = undefined;
  readonly exited: Promise<ExitInfo>;
  readonly released: Promise<void>;
  readonly stops: StopRequest[] = [];
  private resolveExit!: (exit: ExitInfo) => void;
  private rejectExit!: (error: Error) => void;

  constructor(
    readonly number: number,
    private readonly mode: MemoryMode,
  ) {
    this.exited = new Promise((resolve, reject) => {
      this.resolveExit = resolve;
      this.rejectExit = reject;
    });
    this.released = this.exited.then(
      () => undefined,
      () => undefined,
    );
  }

  stop(request: StopRequest): Promise<void> {
    this.stops.push(request);
    if (this.mode === 'stop-throws') throw new Error('stop() exploded');
    if (this.mode === 'exit-rejects') this.breakExit();
    else this.resolveExit({ requested: true, exitCode: 0, signal: null, forced: request.force, at: Date.now() });
    return this.released;
  }

  /** Ends the instance as a crash. */
  crash(message: string): void {
    this.resolveExit({ requested: false, exitCode: null, signal: null, forced: false, at: Date.now(), error: serializeError(hsuError('WORKER_CRASHED', message)) });
  }

  /** Breaks the contract: `exited` must never reject. */
  breakExit(): void {
    this.rejectExit(new Error('exited rejected'));
  }

  call(action: string, input: unknown): Promise<unknown> {
    if (action === 'echo') return Promise.resolve({ instance: this.number, input });
    return Promise.reject(hsuError('ACTION_NOT_FOUND', `no action ${action}`, { action, available: ['echo'] }));
  }

  endpoint(): undefined {
    return undefined;
  }

  diagnostics(): Readonly<Record<string, unknown>> {
    return { instance: this.number };
  }
}

export class MemoryRuntime implements Runtime {
  readonly kind = 'memory';
  readonly capabilities = { stoppable: true, callable: true };
  readonly instances: MemoryInstance[] = [];
  readonly launches: LaunchContext[] = [];

  constructor(private readonly mode: MemoryMode) {}

  launch(context: LaunchContext): Promise<Instance> {
    this.launches.push(context);
    const instance = new MemoryInstance(this.instances.length + 1, this.mode);
    this.instances.push(instance);
    return Promise.resolve(instance);
  }

  describe(): RuntimeDetails {
    return { kind: 'memory', mode: this.mode };
  }

  get current(): MemoryInstance {
    const last = this.instances.at(-1);
    if (last === undefined) throw new Error('no instance launched yet');
    return last;
  }
}

/** The definition to register, and the runtime it created for each worker id. */
export function memoryRuntime(prefix: string): { definition: RuntimeDefinition; created: Map<string, MemoryRuntime> } {
  const created = new Map<string, MemoryRuntime>();
  const definition: RuntimeDefinition = {
    kind: 'memory',
    description: 'an in-memory instance in the master (tests)',
    matches: (config: WorkerConfig) => config.id.startsWith(prefix),
    create: (config: WorkerConfig) => {
      const mode = (config.type === 'process' ? config.execution?.args[0] : undefined) ?? 'ok';
      const runtime = new MemoryRuntime(mode as MemoryMode);
      created.set(config.id, runtime);
      return runtime;
    },
  };
  return { definition, created };
}

/** A config the built-in process runtime would run too: only the id prefix sends it to ours. */
export function memoryWorker(id: string, mode: MemoryMode, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'process', execution: { executable_path: process.execPath, args: [mode] }, ...extra };
}
