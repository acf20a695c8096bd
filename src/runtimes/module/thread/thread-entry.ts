// Worker-thread side of `isolation: thread`: one module per thread, driven over the thread's port.
import { parentPort, threadId } from 'node:worker_threads';
import type { FromHost, ToHost } from '../../../protocol/messages.js';
import { portTransport } from '../../../protocol/transport.js';
import { serveModule } from '../module-host.js';

const port = parentPort;
if (port === null) throw new Error('thread-entry must run inside a worker thread');

serveModule({ ...portTransport<FromHost, ToHost>(port), exit: (code) => process.exit(code) }, () => ({ type: 'ipc', address: `thread:${threadId}` }));
