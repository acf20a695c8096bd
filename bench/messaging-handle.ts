/** Messages handled per second by one command worker (trivial handler) against a raw read + JSON decode of the same rows; plainjob beside it. */
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CommandWorker } from '../src/messaging/index.js';
import { note, scratchDir, verdict, type Row } from './common.js';
import { OrderPlaced, openBenchLog, PAYLOAD } from './messaging-common.js';
import { plainjobThroughput } from './messaging-plainjob.js';
import { fmtRate, fmtRatio, summarize } from './stats.js';

const COUNT = 300_000;
const PLAINJOB_COUNT = 20_000;
const REPEATS = 3;
type Mode = 'sync' | 'async' | 'exactly-once';

/** Raw floor: every row of the log file read with node:sqlite and JSON-parsed. */
function rawReadRate(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  const select = db.prepare('SELECT id, name, data, appended_at FROM hsu_messages WHERE id > ? ORDER BY id LIMIT 1000');
  select.setReturnArrays(true);
  const start = performance.now();
  let last = 0;
  let n = 0;
  for (;;) {
    const rows = select.all(last) as unknown as [number, string, string, number][];
    if (rows.length === 0) break;
    for (const row of rows) {
      JSON.parse(row[2]);
      n++;
    }
    last = rows[rows.length - 1]?.[0] ?? last;
  }
  const rate = n / ((performance.now() - start) / 1000);
  db.close();
  return rate;
}

async function workerRate(log: ReturnType<typeof openBenchLog>, mode: Mode, consumer: string): Promise<number> {
  let handled = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (finished = resolve));
  const worker = new CommandWorker({ name: consumer, state: null, log, exactlyOnce: mode === 'exactly-once' });
  worker.onCommand('order/placed', mode === 'async'
    ? async () => {
      if (++handled === COUNT) finished();
    }
    : () => {
      if (++handled === COUNT) finished();
    });
  const start = performance.now();
  await worker.start();
  await all;
  const rate = COUNT / ((performance.now() - start) / 1000);
  await worker.stop();
  return rate;
}

export async function benchHandle(): Promise<Row[]> {
  note(`messaging handle: ${COUNT / 1000}k messages through one command worker, raw read+JSON floor, plainjob (${PLAINJOB_COUNT / 1000}k jobs)...`);
  const scratch = scratchDir('messaging-handle');
  const log = openBenchLog(scratch.dir, 'handle');
  const rows: Row[] = [];
  try {
    const batch = Array.from({ length: 1000 }, () => OrderPlaced(PAYLOAD));
    for (let i = 0; i < COUNT / 1000; i++) await log.appendBatch(batch);
    const rates: Record<Mode, number[]> = { sync: [], async: [], 'exactly-once': [] };
    const floors: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      floors.push(rawReadRate(log.file));
      for (const mode of Object.keys(rates) as Mode[]) rates[mode].push(await workerRate(log, mode, `${mode}-${r}`));
    }
    const floor = summarize(floors).p50;
    const plainjob = await plainjobThroughput(path.join(scratch.dir, 'plainjob.db'), PLAINJOB_COUNT);
    const sync = summarize(rates.sync).p50;
    for (const mode of Object.keys(rates) as Mode[]) {
      const value = summarize(rates[mode]).p50;
      const target = mode === 'sync' ? { target: '≥ 300k/s', status: verdict(value >= 300_000) } : { target: 'report', status: 'info' as const };
      rows.push({ name: `messaging: handled/s, one worker, ${mode} trivial handler`, value: fmtRate(value), spread: '', floor: `${fmtRate(floor)} raw read+JSON`, ratio: fmtRatio(value / floor), ...target });
    }
    rows.push({ name: 'messaging: plainjob jobs/s, one worker (peer)', value: fmtRate(plainjob), spread: '', floor: `${fmtRate(sync)} hsu sync`, ratio: fmtRatio(plainjob / sync), target: 'report', status: 'info' });
    note(`  raw read+JSON ${fmtRate(floor)}; worker ${(Object.keys(rates) as Mode[]).map((m) => `${m} ${fmtRate(summarize(rates[m]).p50)}`).join(', ')}; plainjob ${fmtRate(plainjob)}`);
    return rows;
  } finally {
    await log.close();
    scratch.remove();
  }
}
