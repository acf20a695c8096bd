// The background checkpointer's thread: copies the log's WAL back into the database file when
// asked, on a connection of its own, so the fsyncs this takes block no appender and no handler.
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';

const port = parentPort;
if (port === null) throw new Error('checkpointer-thread must run in a worker thread');
const db = new DatabaseSync(String((workerData as { file: string }).file), { timeout: 1000 });
port.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    // PASSIVE: never waits for readers or writers; what it cannot copy now, the next round does.
    const row = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as { busy: number; log: number; checkpointed: number };
    port.postMessage({ ok: true, ...row });
  } catch (err) {
    port.postMessage({ ok: false, message: (err as Error).message });
  }
});
