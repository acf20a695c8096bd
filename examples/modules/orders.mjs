// A command worker over a durable SQLite message log: it handles every `order/place` command in id
// order, keeps a checkpoint, and after a restart (or a crash of the master) continues where it was.
// The demo appends commands from the master's process; this worker reads them from its thread.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandWorker, SqliteMessageLog, defineCommandWorker } from 'hsu/messaging';
import { commands } from './order-commands.mjs';

const examples = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export default defineCommandWorker({ name: 'orders', version: '1.0.0' }, (ctx) => {
  // A relative `db` is relative to examples/, wherever the worker runs.
  const log = SqliteMessageLog.open(path.resolve(examples, String(ctx.config.db)), { commands });
  const worker = new CommandWorker({ name: 'orders', description: 'the demo order book', state: { orders: 0, items: {} }, log, ownsLog: true });
  worker.onCommand('order/place', (command, message, handler) => {
    handler.state.orders += 1;
    handler.state.items[command.payload.item] = (handler.state.items[command.payload.item] ?? 0) + command.payload.qty;
    ctx.logger.info({ id: message.id, ...command.payload, orders: handler.state.orders }, 'order placed');
  });
  return worker;
});
