// `npm start`: the demo master. It registers the native `clock` module, runs examples/hsu.yaml,
// calls the greeter service (balanced over its replicas, wherever they are deployed) and appends
// an order to the orders command worker's durable log every few seconds.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule } from '../src/worker/index.js';
import { runMaster } from '../src/cli/run.js';
import { SqliteMessageLog } from '../src/messaging/index.js';
// @ts-expect-error: a plain .mjs module of the demo (no types); it defines the order commands.
import { PlaceOrder, commands } from '../../examples/modules/order-commands.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const examples = path.resolve(here, '..', '..', 'examples');
const config = path.join(examples, 'hsu.yaml');
const ITEMS = ['tea', 'coffee', 'cake'];

const clock = () => {
  let ticks = 0;
  return defineModule<{ interval_ms?: number }>({
    info: { name: 'clock', version: '1.0.0' },
    start(ctx) {
      const timer = setInterval(() => ctx.logger.info({ ticks: ++ticks }, 'clock tick'), ctx.config.interval_ms ?? 2000);
      ctx.signal.addEventListener('abort', () => clearInterval(timer));
    },
    isHealthy: () => true,
    actions: { now: async () => new Date().toISOString() },
  });
};

let orders: SqliteMessageLog | undefined;
const code = await runMaster(config, {
  natives: { clock },
  onStarted(master) {
    orders = SqliteMessageLog.open(path.join(examples, '.hsu', 'orders.db'), { commands });
    let n = 0;
    const demo = setInterval(() => {
      master.call('greeter', 'greet', 'operator').then(
        (text) => master.logger.info({ reply: text }, 'demo called greeter.greet'),
        (error: unknown) => master.logger.warn({ err: error }, 'greeter call failed'),
      );
      const item = ITEMS[n++ % ITEMS.length];
      orders?.append(PlaceOrder({ item, qty: 1 + (n % 3) })).catch((error: unknown) => master.logger.warn({ err: error }, 'order append failed'));
    }, 3000);
    demo.unref();
    master.logger.info('demo running: in another terminal try `npx hsu ls --state-dir examples/.hsu` or `npx hsu dashboard --state-dir examples/.hsu`');
  },
});
await orders?.close();
process.exit(code);
