// `npm start`: the demo master. It registers the native `clock` module, runs examples/hsu.yaml and
// calls the greeter module's action every few seconds, wherever that module is deployed.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineModule } from '../src/worker/index.js';
import { runMaster } from '../src/cli/run.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const config = path.resolve(here, '..', '..', 'examples', 'hsu.yaml');

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

process.exit(await runMaster(config, {
  natives: { clock },
  onStarted(master) {
    const greet = setInterval(() => {
      master.call('greeter', 'greet', 'operator').then(
        (text) => master.logger.info({ reply: text }, 'demo called greeter.greet'),
        (error: unknown) => master.logger.warn({ err: error }, 'greeter call failed'),
      );
    }, 3000);
    greet.unref();
  },
}));
