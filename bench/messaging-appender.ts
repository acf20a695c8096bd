/**
 * Child of the latency benchmark: `db rate duration_ms mode`. mode 'log' appends one command per
 * message to the log (sent_at in the payload); mode 'raw' appends an 8-byte timestamp to a plain
 * file (the floor: the same inotify wake-up without SQLite). Reports how many it sent.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { monotonicMs, paced } from './messaging-clock.js';
import { OrderPlaced, PAYLOAD, registry } from './messaging-common.js';
import { SqliteMessageLog } from '../src/messaging/index.js';

const [file = '', rateText = '10000', durationText = '3000', mode = 'log'] = process.argv.slice(2);
const rate = Number(rateText);
const duration = Number(durationText);

async function main(): Promise<void> {
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  if (mode === 'raw') {
    const fd = openSync(file, 'a');
    const buffer = Buffer.alloc(8);
    const sent = await paced(rate, duration, () => {
      buffer.writeDoubleLE(monotonicMs());
      writeSync(fd, buffer);
    });
    closeSync(fd);
    process.send?.({ sent });
    return;
  }
  const log = SqliteMessageLog.open(file, { commands: registry });
  const sent = await paced(rate, duration, () => {
    log.appendSync(OrderPlaced({ ...PAYLOAD, sent_at: monotonicMs() }));
  });
  await log.close();
  process.send?.({ sent });
}

await main();
process.disconnect?.();
