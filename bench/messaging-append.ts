/** Append throughput of the log against raw node:sqlite inserts of the same rows, and read + decode against raw read + JSON.parse. */
import path from 'node:path';
import { note, scratchDir, verdict, type Row } from './common.js';
import { alternate, OrderPlaced, openBenchLog, PAYLOAD, RawSqlite, rateOf, registry } from './messaging-common.js';
import { fmtRate, fmtRatio } from './stats.js';

const BATCH = 1000;
const BATCHES_PER_SEGMENT = 20;
const SINGLES_PER_SEGMENT = 4000;
const ROUNDS = 5;

function row(name: string, value: number, floorName: string, floor: number, minRatio?: number): Row {
  const ratio = value / floor;
  const base = { name, value: fmtRate(value), spread: '', floor: `${fmtRate(floor)} ${floorName}`, ratio: fmtRatio(ratio) };
  return minRatio === undefined ? { ...base, target: 'report', status: 'info' } : { ...base, target: `≥ ${minRatio}x floor`, status: verdict(ratio >= minRatio) };
}

export async function benchAppend(): Promise<Row[]> {
  note('messaging append: SqliteMessageLog against raw node:sqlite (ABBA, 5 rounds)...');
  const scratch = scratchDir('messaging-append');
  const raw = new RawSqlite(path.join(scratch.dir, 'raw.db'));
  const log = openBenchLog(scratch.dir, 'log');
  const batch = Array.from({ length: BATCH }, () => OrderPlaced(PAYLOAD));
  try {
    const [batchFloor, batchLog] = await alternate(
      ROUNDS,
      () => rateOf(BATCH * BATCHES_PER_SEGMENT, () => {
        for (let b = 0; b < BATCHES_PER_SEGMENT; b++) raw.insertBatch(BATCH);
      }),
      () => rateOf(BATCH * BATCHES_PER_SEGMENT, async () => {
        for (let b = 0; b < BATCHES_PER_SEGMENT; b++) await log.appendBatch(batch);
      }),
    );
    const command = OrderPlaced(PAYLOAD);
    const [singleFloor, singleLog] = await alternate(
      ROUNDS,
      () => rateOf(SINGLES_PER_SEGMENT, () => {
        for (let i = 0; i < SINGLES_PER_SEGMENT; i++) raw.insertOne();
      }),
      () => rateOf(SINGLES_PER_SEGMENT, async () => {
        for (let i = 0; i < SINGLES_PER_SEGMENT; i++) await log.append(command);
      }),
    );
    const rawRows = raw.readAll();
    const logRows = await log.head();
    const [readFloor, readLog] = await alternate(
      2,
      () => rateOf(rawRows, () => raw.readAll()),
      () => rateOf(logRows, async () => {
        for (let after = 0; ; ) {
          const records = await log.read(after, 1000);
          if (records.length === 0) return;
          for (const record of records) if (!registry.decode(record).ok) throw new Error('decode failed');
          after = (records[records.length - 1] as { id: number }).id;
        }
      }),
    );
    note(`  batched: raw ${fmtRate(batchFloor)}, log ${fmtRate(batchLog)}; single: raw ${fmtRate(singleFloor)}, log ${fmtRate(singleLog)}; read: raw+JSON ${fmtRate(readFloor)}, log+schema ${fmtRate(readLog)}`);
    return [
      row('messaging: appendBatch (1000 per commit)', batchLog, 'raw batched', batchFloor, 0.8),
      row('messaging: append (one per commit)', singleLog, 'raw autocommit', singleFloor, 0.8),
      row('messaging: read + decode (JSON + zod)', readLog, 'raw read+JSON', readFloor),
    ];
  } finally {
    raw.close();
    await log.close();
    scratch.remove();
  }
}
