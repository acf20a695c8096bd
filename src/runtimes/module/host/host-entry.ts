// Child-process side of `type: process` + `module:`: hsu's own main(), so module authors write none.
import type { FromHost, ToHost } from '../../../protocol/messages.js';
import { serveModule } from '../module-host.js';

if (typeof process.send !== 'function') throw new Error('host-entry must be started by hsu with an IPC channel');

let pending = 0;
let exitCode: number | undefined;
const exitWhenFlushed = (): void => {
  if (exitCode !== undefined && pending === 0) process.exit(exitCode);
};

const handle = serveModule(
  {
    send: (message: FromHost) => {
      // Exiting before the IPC queue drains would drop the last message (e.g. the fatal report).
      process.send?.(message, undefined, undefined, () => {
        pending -= 1;
        exitWhenFlushed();
      });
      // Counted only once queued: send() throws synchronously on an uncloneable payload, and a
      // message that never left must not hold the exit back forever.
      pending += 1;
    },
    onMessage: (handler) => {
      const listener = (message: unknown): void => handler(message as ToHost);
      process.on('message', listener);
      return () => void process.off('message', listener);
    },
    exit: (code) => {
      exitCode = code;
      exitWhenFlushed();
    },
  },
  () => ({ type: 'ipc', address: `pid:${process.pid}` }),
);

// Any stop signal means "stop gracefully"; a lost channel means the master is gone: never linger as an orphan.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) process.on(signal, () => handle.stop());
process.on('disconnect', () => {
  handle.stop();
  setTimeout(() => process.exit(1), 10_000).unref();
});
