// What every instance whose module runs elsewhere (a thread, a child host) answers through its RemoteModule.
import type { CallOptions } from '../../worker/define.js';
import type { WorkerEndpoint } from '../../worker/contract.js';
import type { RemoteModule } from './remote-module.js';

export abstract class RemoteInstance {
  constructor(readonly remote: RemoteModule) {}

  health(signal: AbortSignal, timeoutMs?: number): Promise<boolean> {
    return this.remote.health(signal, timeoutMs);
  }

  call(action: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    return this.remote.call(action, input, options);
  }

  endpoint(): WorkerEndpoint | undefined {
    return this.remote.endpoint;
  }

  /** The module's facts as the host reported them at start, and its own diagnostics. */
  protected moduleFacts(): Record<string, unknown> {
    const facts = this.remote.startedFacts;
    return {
      module: facts?.info ?? null,
      load_time: facts === undefined ? null : new Date(facts.loadedAt).toISOString(),
      actions: facts?.actions ?? [],
      module_diagnostics: this.remote.moduleDiagnostics,
      // Measured with the module's facts: as of the previous read (null before the first answer).
      heap: this.remote.heap ?? null,
    };
  }
}
