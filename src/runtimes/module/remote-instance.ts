// What every instance whose module runs elsewhere (a thread, a child host) answers through its RemoteModule.
import type { StopRequest } from '../../lifecycle/runtime.js';
import type { CallOptions } from '../../worker/define.js';
import type { WorkerEndpoint } from '../../worker/contract.js';
import type { RemoteModule } from './remote-module.js';

/**
 * The share of a graceful stop's grace period that the calls already sent get to finish in before
 * the module is told to stop; the rest is its own stop()'s.
 */
export const DRAIN_SHARE = 0.5;

export abstract class RemoteInstance {
  private draining: Promise<void> | undefined;

  constructor(readonly remote: RemoteModule) {}

  /**
   * A graceful stop drains first: the controller refuses new calls once it is stopping, and the
   * calls in flight (a replica scaled down, a rolling restart) finish instead of failing with
   * HSU_ERR_CALL_INTERRUPTED, for up to DRAIN_SHARE of the grace period. A forced stop goes at once,
   * also in the middle of a drain.
   */
  protected stopAfterDrain(request: StopRequest, stop: (request: StopRequest) => Promise<void>): Promise<void> {
    if (request.force) return stop(request);
    this.draining ??= (async () => {
      const begun = Date.now();
      await this.remote.drain(request.graceMs * DRAIN_SHARE);
      await stop({ ...request, graceMs: Math.max(0, request.graceMs - (Date.now() - begun)) });
    })();
    return this.draining;
  }

  health(signal: AbortSignal, timeoutMs?: number): Promise<boolean | 'timeout'> {
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
