/**
 * Inline modules share the master's event loop. Node keeps the AsyncLocalStorage context of timers,
 * I/O callbacks and promises, so an uncaught error raised from a module's own async work can be
 * charged to that module (which then restarts by policy) instead of killing the master. Errors
 * with no module context keep Node's default behaviour: print and exit 1.
 */
import { moduleScope } from './module-driver.js';

let installed = false;

export function installUncaughtAttribution(): void {
  if (installed) return;
  installed = true;
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUnhandledRejection);
}

function onUncaught(error: Error): void {
  const driver = moduleScope.getStore();
  if (driver !== undefined) {
    driver.reportFatal(error, 'MODULE_UNCAUGHT');
    return;
  }
  // Someone else listens: they decide. Otherwise behave as if we had never listened.
  if (process.listenerCount('uncaughtException') > 1) return;
  process.stderr.write(`${error.stack ?? String(error)}\n`);
  process.exit(1);
}

function onUnhandledRejection(reason: unknown): void {
  const driver = moduleScope.getStore();
  if (driver !== undefined) {
    driver.reportFatal(reason, 'MODULE_UNCAUGHT');
    return;
  }
  if (process.listenerCount('unhandledRejection') > 1) return;
  // Node's default (--unhandled-rejections=throw): surface as an uncaught exception.
  throw reason instanceof Error ? reason : new Error(`unhandled rejection: ${String(reason)}`);
}
