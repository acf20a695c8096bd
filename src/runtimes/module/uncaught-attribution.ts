/**
 * Inline modules share the master's event loop. Node keeps the AsyncLocalStorage context of timers,
 * I/O callbacks and promises, so an uncaught error raised from a module's own async work can be
 * charged to that module (which then restarts by policy) instead of killing the master. Errors
 * with no module context keep Node's default behaviour: print and exit 1.
 *
 * The hooks are process-wide by nature; they are installed while at least one master holds a
 * scope and removed when the last one releases it, so a library user's process is left as found.
 */
import { moduleScope } from './module-driver.js';

export interface AttributionScope {
  release(): void;
}

let holders = 0;

export function acquireAttribution(): AttributionScope {
  if (holders++ === 0) {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUnhandledRejection);
  }
  let released = false;
  return {
    release(): void {
      if (released) return;
      released = true;
      if (--holders > 0) return;
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUnhandledRejection);
    },
  };
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
