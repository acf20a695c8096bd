/**
 * What the master offers a module through its context, whatever the deployment: calls to other
 * workers and services, and the master's bus. Inline modules get it directly; a thread or child
 * host gets a stand-in that carries each request over the control protocol (module-host.ts) and
 * the master answers it through the same object (remote-module.ts).
 */
import type { ModuleBus, ModuleCallOptions } from '../../worker/contract.js';

export interface ModuleServices {
  call(target: string, action: string, input: unknown, options: ModuleCallOptions | undefined): Promise<unknown>;
  publish(topic: string, payload: unknown): void;
  subscribe(topic: string, handler: (payload: unknown) => void): () => void;
}

/** The bus a module sees: its subscriptions are its instance's, and end with it. */
export class InstanceBus implements ModuleBus {
  private readonly disposers = new Set<() => void>();

  constructor(private readonly services: ModuleServices) {}

  publish(topic: string, payload: unknown): void {
    this.services.publish(topic, payload);
  }

  subscribe(topic: string, handler: (payload: unknown) => void): () => void {
    const dispose = this.services.subscribe(topic, handler);
    let done = false;
    const off = (): void => {
      if (done) return;
      done = true;
      this.disposers.delete(off);
      dispose();
    };
    this.disposers.add(off);
    return off;
  }

  /** The instance ended: every subscription it made goes. */
  close(): void {
    for (const off of [...this.disposers]) off();
  }
}

/** Refuses everything: for a driver run without a master (a bare test host). */
export const NO_SERVICES: ModuleServices = {
  call: (target) => Promise.reject(new Error(`no master to call '${target}' through`)),
  publish: () => undefined,
  subscribe: () => () => undefined,
};
