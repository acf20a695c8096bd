// Worker-thread side of `isolation: thread`: one module per thread, driven over the thread's port.
import { parentPort, threadId } from 'node:worker_threads';
import { serveModule } from './module-host.js';
import type { ToHost } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('thread-entry must run inside a worker thread');

serveModule(
  {
    post: (message) => port.postMessage(message),
    onMessage: (handler) => port.on('message', (message: ToHost) => handler(message)),
    exit: (code) => process.exit(code),
  },
  () => ({ type: 'ipc', address: `thread:${threadId}` }),
);
