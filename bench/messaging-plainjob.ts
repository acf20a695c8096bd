/**
 * The peer: plainjob, a SQLite job queue from npm. It ships adapters for better-sqlite3 and
 * bun:sqlite only; better-sqlite3 is a native build (none on this machine), so plainjob runs here
 * on node:sqlite through its own Connection interface: the same SQLite engine as hsu's log.
 */
import { DatabaseSync } from 'node:sqlite';
import { defineQueue, defineWorker, type Connection, type Queue } from 'plainjob';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

function connection(file: string): Connection {
  const db = new DatabaseSync(file, { timeout: 5000 });
  const transaction = <F extends (...args: never[]) => unknown>(fn: F): unknown => {
    const run = (mode: string) => (...args: Parameters<F>): ReturnType<F> => {
      db.exec(`BEGIN ${mode}`);
      try {
        const result = fn(...args) as ReturnType<F>;
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw err;
      }
    };
    // better-sqlite3's transaction function, with the .immediate() etc. variants plainjob calls.
    return Object.assign(run('DEFERRED'), { deferred: run('DEFERRED'), immediate: run('IMMEDIATE'), exclusive: run('EXCLUSIVE') });
  };
  return {
    driver: 'better-sqlite3',
    filename: file,
    pragma: (statement: string) => db.exec(`PRAGMA ${statement}`),
    exec: (sql: string) => db.exec(sql),
    prepare: (sql: string) => db.prepare(sql) as unknown as ReturnType<Connection['prepare']>,
    transaction: transaction as Connection['transaction'],
    close: () => db.close(),
  };
}

export function plainjobQueue(file: string): Queue {
  return defineQueue({ connection: connection(file), logger: silent });
}

/** Jobs/s of one plainjob worker draining `count` jobs added with addMany. */
export async function plainjobThroughput(file: string, count: number): Promise<number> {
  const queue = plainjobQueue(file);
  queue.addMany('bench', Array.from({ length: count }, (_, n) => ({ n })));
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const worker = defineWorker('bench', () => {
    if (++done === count) finished();
  }, { queue, logger: silent });
  const start = performance.now();
  const running = worker.start();
  await all;
  const rate = count / ((performance.now() - start) / 1000);
  await worker.stop();
  await running;
  queue.close();
  return rate;
}

/** Add-to-processing latencies (ms) of plainjob at `rate` jobs/s for `durationMs`, default poll interval. */
export async function plainjobLatency(file: string, rate: number, durationMs: number, now: () => number): Promise<number[]> {
  const queue = plainjobQueue(file);
  const samples: number[] = [];
  const worker = defineWorker('latency', (job) => {
    samples.push(now() - (JSON.parse(job.data) as { sent_at: number }).sent_at);
  }, { queue, logger: silent });
  const running = worker.start();
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const elapsed = performance.now() - start;
      const due = Math.min(Math.floor((elapsed / 1000) * rate), Math.floor((durationMs / 1000) * rate));
      while (sent < due) {
        queue.add('latency', { sent_at: now() });
        sent++;
      }
      if (elapsed < durationMs) setImmediate(tick);
      else resolve();
    };
    tick();
  });
  // Let the last jobs be picked up (plainjob polls once a second when idle).
  const deadline = performance.now() + 5000;
  while (samples.length < sent && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  await worker.stop();
  await running;
  queue.close();
  return samples;
}
