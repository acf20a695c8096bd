/**
 * WAL checkpoints off the hot path. SQLite's automatic checkpoint runs inside the commit that
 * crosses 1000 WAL pages, with fsyncs that take tens of milliseconds on a busy disk: at 10k
 * single-message commits a second (each writes a 4 KiB page) that is ten stalls a second in the
 * appender. The log turns the automatic checkpoint off and, once its own commits have written
 * about as many WAL pages (estimated from what they stored), asks a worker thread to checkpoint
 * instead. If the thread cannot be used, the automatic checkpoint is turned back on.
 */
import type { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';

/** SQLite's own threshold for the automatic checkpoint, in pages. */
const THRESHOLD_PAGES = 1000;
const PAGE_BYTES = 4096;

export class Checkpointer {
  private thread: Worker | undefined;
  private pages = 0;
  private running = false;
  private failed = false;
  checkpoints = 0;

  constructor(
    private readonly file: string,
    private readonly db: DatabaseSync,
  ) {
    db.exec('PRAGMA wal_autocheckpoint = 0');
  }

  /** Called after each commit through the log's connection with the bytes it stored: a commit writes at least one page. */
  committed(bytes: number): void {
    this.pages += 1 + Math.floor(bytes / PAGE_BYTES);
    if (this.pages < THRESHOLD_PAGES || this.running || this.failed) return;
    this.pages = 0;
    this.running = true;
    this.ensureThread().postMessage('checkpoint');
  }

  async close(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (thread === undefined) return;
    thread.postMessage('close');
    await thread.terminate();
  }

  private ensureThread(): Worker {
    if (this.thread !== undefined) return this.thread;
    const thread = new Worker(new URL('./checkpointer-thread.js', import.meta.url), { workerData: { file: this.file } });
    thread.unref();
    thread.on('message', () => {
      this.running = false;
      this.checkpoints++;
    });
    thread.on('error', () => this.fallBack());
    thread.on('exit', () => {
      if (this.thread === thread) this.fallBack();
    });
    this.thread = thread;
    return thread;
  }

  private fallBack(): void {
    this.failed = true;
    this.running = false;
    this.thread = undefined;
    try {
      this.db.exec('PRAGMA wal_autocheckpoint = 1000');
    } catch {
      // the connection is closing; nothing left to checkpoint for
    }
  }
}
