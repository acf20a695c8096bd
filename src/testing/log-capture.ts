/**
 * A pino logger writing JSON lines to memory: what reached the master's log (its own records and
 * every module's ctx.logger output, wherever the module ran) can be read and waited on by a test.
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface LogRecord {
  readonly level: number;
  readonly msg?: string;
  readonly worker?: string;
  readonly [key: string]: unknown;
}

export class LogCapture {
  readonly records: LogRecord[] = [];
  readonly logger: Logger;
  private readonly waiters = new Set<() => void>();

  constructor(level: pino.LevelWithSilent = 'debug') {
    this.logger = pino(
      { level },
      new Writable({
        write: (chunk: Buffer, _encoding, callback) => {
          for (const line of chunk.toString('utf8').split('\n')) {
            if (line === '') continue;
            try {
              this.records.push(JSON.parse(line) as LogRecord);
            } catch {
              this.records.push({ level: 30, msg: line });
            }
          }
          for (const waiter of [...this.waiters]) waiter();
          callback();
        },
      }),
    );
  }

  /** Records logged by (or for) one worker: a module's ctx.logger lines carry its id as `worker`. */
  of(workerId: string): LogRecord[] {
    return this.records.filter((record) => record.worker === workerId || record.worker_id === workerId);
  }

  /** Calls `check` after every record until it returns true; the returned function stops it. */
  onRecord(check: () => void): () => void {
    this.waiters.add(check);
    return () => void this.waiters.delete(check);
  }
}
