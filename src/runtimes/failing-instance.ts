// Shared by the thread and host runtimes: both hear of a fatal error before the instance has ended.
import type { Instance } from './types.js';

/**
 * A host that reported a fatal error stops its module and ends itself; if the module's stop()
 * hangs (or its loop is blocked), the instance is forced down once the stop timeout has passed, so
 * a failing worker can never stay "running".
 */
export function endFailingInstance(instance: Instance, stopTimeoutMs: number): void {
  const timer = setTimeout(() => void instance.stop({ timeoutMs: 0, signal: 'SIGKILL', force: true }), stopTimeoutMs);
  void instance.exited.then(() => clearTimeout(timer));
}
